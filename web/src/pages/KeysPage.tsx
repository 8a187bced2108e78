import {
  Alert,
  Badge,
  Button,
  Card,
  Checkbox,
  Code,
  Group,
  Modal,
  MultiSelect,
  NumberInput,
  Pagination,
  Progress,
  Select,
  Stack,
  Switch,
  Table,
  Tabs,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { ApiError, api, call, type Schemas } from '../api/client';
import { useSession } from '../auth/session';
import { ErrorAlert, QueryState, formatDate } from '../components/common';
import { copyText, notifyError, notifySuccess } from '../lib/notify';
import { keyState, STATE_COLOR, STATE_LABEL, usageLine } from '../lib/usage';

type UsageKey = Schemas['UsageKeyResponseDto'];
const PAGE = 20;

export function KeysPage(): ReactNode {
  const session = useSession();
  if (session?.user.role !== 'admin') {
    return (
      <Stack>
        <Title order={2}>Usage keys</Title>
        <GetCodeCard />
      </Stack>
    );
  }
  return (
    <Stack>
      <Title order={2}>Usage-limited keys</Title>
      <Tabs defaultValue="keys" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="keys">Keys</Tabs.Tab>
          <Tabs.Tab value="create">Create</Tabs.Tab>
          <Tabs.Tab value="import">Import</Tabs.Tab>
          <Tabs.Tab value="code">Get a code</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="keys" pt="md">
          <KeyList />
        </Tabs.Panel>
        <Tabs.Panel value="create" pt="md">
          <CreateKey />
        </Tabs.Panel>
        <Tabs.Panel value="import" pt="md">
          <ImportKeys />
        </Tabs.Panel>
        <Tabs.Panel value="code" pt="md">
          <GetCodeCard />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

const REMEMBERED = 'otp-console-key-names';
const remembered = (): string[] => {
  try {
    return JSON.parse(localStorage.getItem(REMEMBERED) ?? '[]') as string[];
  } catch {
    return [];
  }
};

/** A person (or an admin) uses a key: each code consumes one use; the usage line says what is left. */
function GetCodeCard(): ReactNode {
  const [name, setName] = useState(() => remembered()[0] ?? '');
  const [names, setNames] = useState(remembered);
  const [result, setResult] = useState<{ code?: string; seconds?: number; info: Schemas['UsageInfoDto'] } | null>(null);
  const use = useMutation({
    mutationFn: () => call(() => api.POST('/api/v1/keys/code', { body: { key: name.trim() } })),
    onSuccess: (answer) => {
      setResult({ code: answer.code, seconds: answer.remaining_seconds, info: answer.usage_info });
      const next = [name.trim(), ...names.filter((n) => n !== name.trim())].slice(0, 10);
      setNames(next);
      localStorage.setItem(REMEMBERED, JSON.stringify(next));
    },
    onError: (error) => {
      // A depleted key answers with its usage_info: show the red line, not only the message.
      const info =
        error instanceof ApiError ? (error.problem.usage_info as Schemas['UsageInfoDto'] | undefined) : undefined;
      setResult(info ? { info } : null);
    },
  });
  const state = result ? keyState(result.info, use.error instanceof ApiError ? 'depleted' : undefined) : null;
  return (
    <Card withBorder maw={560}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          use.mutate();
        }}
      >
        <Stack>
          <Text size="sm">Each code uses up one of the key's uses.</Text>
          <Group align="end">
            <TextInput
              label="Key name"
              required
              value={name}
              onChange={(event) => setName(event.currentTarget.value)}
              list="remembered-keys"
              style={{ flex: 1 }}
            />
            <datalist id="remembered-keys">
              {names.map((n) => (
                <option key={n} value={n} />
              ))}
            </datalist>
            <Button type="submit" loading={use.isPending}>
              Get code
            </Button>
          </Group>
          {result && state && (
            <Alert color={STATE_COLOR[state]} data-testid="key-result" data-state={state} title={STATE_LABEL[state]}>
              <Stack gap={4}>
                {result.code && (
                  <Group gap="sm">
                    <Text className="code-digits" data-testid="key-code">
                      {result.code}
                    </Text>
                    <Button size="xs" variant="light" onClick={() => void copyText(result.code!, 'Code copied')}>
                      Copy
                    </Button>
                    {result.seconds !== undefined && <Text size="sm">valid for {result.seconds} s</Text>}
                  </Group>
                )}
                <Text data-testid="usage-line">{usageLine(result.info)}</Text>
              </Stack>
            </Alert>
          )}
          <ErrorAlert error={use.error} title="No code" />
        </Stack>
      </form>
    </Card>
  );
}

function KeyList(): ReactNode {
  const [page, setPage] = useState(1);
  const [status, setStatus] = useState<string | null>(null);
  const [history, setHistory] = useState<string | null>(null);
  const keys = useQuery({
    queryKey: ['keys', page, status],
    queryFn: () =>
      call(() =>
        api.GET('/api/v1/keys', {
          params: {
            query: {
              limit: PAGE,
              offset: (page - 1) * PAGE,
              ...(status ? { status: status as 'active' | 'depleted' | 'expired' } : {}),
            },
          },
        }),
      ),
  });
  return (
    <Stack>
      <Group align="end">
        <Select
          label="Status"
          placeholder="All"
          clearable
          maw={220}
          data={['active', 'depleted', 'expired']}
          value={status}
          onChange={(value) => {
            setStatus(value);
            setPage(1);
          }}
        />
        <Button variant="default" onClick={() => void keys.refetch()} loading={keys.isFetching}>
          Refresh
        </Button>
      </Group>
      <QueryState isLoading={keys.isLoading} error={keys.error}>
        <Table.ScrollContainer minWidth={760}>
          <Table striped highlightOnHover aria-label="Usage-limited keys">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Uses</Table.Th>
                <Table.Th>Last used</Table.Th>
                <Table.Th>Actions</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {(keys.data?.items ?? []).map((key) => (
                <KeyRow key={key.id} item={key} onHistory={() => setHistory(key.name)} />
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        {keys.data && keys.data.total === 0 && <Text c="dimmed">No keys.</Text>}
        {keys.data && keys.data.total > PAGE && (
          <Pagination total={Math.ceil(keys.data.total / PAGE)} value={page} onChange={setPage} />
        )}
      </QueryState>
      <Modal opened={history !== null} onClose={() => setHistory(null)} title={`Usage of ${history}`} size="lg">
        {history && <UsageHistory name={history} />}
      </Modal>
    </Stack>
  );
}

function KeyRow({ item, onHistory }: { item: UsageKey; onHistory: () => void }): ReactNode {
  const queryClient = useQueryClient();
  const [confirmOpen, confirm] = useDisclosure(false);
  const [limitOpen, limit] = useDisclosure(false);
  const [maxUses, setMaxUses] = useState<number>(item.max_uses);
  const info = { max_uses: item.max_uses, usage_count: item.usage_count, remaining_uses: item.remaining_uses };
  const state = keyState(info, item.status);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['keys'] });
  const path = { params: { path: { name: item.name } } };
  const reset = useMutation({
    mutationFn: () => call(() => api.POST('/api/v1/keys/{name}/reset', path)),
    onSuccess: () => {
      notifySuccess(`"${item.name}" reset`);
      refresh();
    },
    onError: (error) => notifyError(error),
  });
  const remove = useMutation({
    mutationFn: () => call(() => api.DELETE('/api/v1/keys/{name}', path)),
    onSuccess: () => {
      notifySuccess(`"${item.name}" deleted`);
      confirm.close();
      refresh();
    },
    onError: (error) => notifyError(error),
  });
  const update = useMutation({
    mutationFn: () => call(() => api.PATCH('/api/v1/keys/{name}', { ...path, body: { max_uses: maxUses } })),
    onSuccess: () => {
      notifySuccess(`Limit of "${item.name}" changed`);
      limit.close();
      refresh();
    },
  });
  const percent = item.max_uses > 0 ? Math.min(100, (item.usage_count / item.max_uses) * 100) : 0;
  return (
    <Table.Tr data-testid="key-row" data-name={item.name} data-state={state}>
      <Table.Td>
        <Text fw={600}>{item.name}</Text>
        <Text size="xs" c="dimmed">
          {item.algorithm} · {item.digits} digits · {item.period} s
          {item.expires_at ? ` · expires ${formatDate(item.expires_at)}` : ''}
        </Text>
      </Table.Td>
      <Table.Td>
        <Badge color={STATE_COLOR[state]} variant="filled">
          {item.max_uses === -1 ? '∞' : item.status}
        </Badge>
      </Table.Td>
      <Table.Td miw={200}>
        {item.max_uses === -1 ? (
          <Text size="sm">{usageLine(info)}</Text>
        ) : (
          <Stack gap={2}>
            <Progress
              value={percent}
              color={STATE_COLOR[state]}
              aria-label={`${item.usage_count} of ${item.max_uses} used`}
            />
            <Text size="xs">{usageLine(info)}</Text>
          </Stack>
        )}
      </Table.Td>
      <Table.Td>{formatDate(item.last_used)}</Table.Td>
      <Table.Td>
        <Group gap={4} wrap="nowrap">
          <Button size="xs" variant="default" onClick={limit.open}>
            Limit
          </Button>
          <Button size="xs" variant="default" onClick={() => reset.mutate()} loading={reset.isPending}>
            Reset
          </Button>
          <Button size="xs" variant="default" onClick={onHistory}>
            History
          </Button>
          <Button size="xs" color="red" variant="light" onClick={confirm.open}>
            Delete
          </Button>
        </Group>
        <Modal opened={confirmOpen} onClose={confirm.close} title={`Delete "${item.name}"?`}>
          <Stack>
            <Text>The key and its secret are removed; codes can no longer be had from it.</Text>
            <Group justify="end">
              <Button variant="default" onClick={confirm.close}>
                Cancel
              </Button>
              <Button color="red" onClick={() => remove.mutate()} loading={remove.isPending}>
                Delete
              </Button>
            </Group>
          </Stack>
        </Modal>
        <Modal opened={limitOpen} onClose={limit.close} title={`Limit of "${item.name}"`}>
          <Stack>
            <Switch
              label="Unlimited"
              checked={maxUses === -1}
              onChange={(event) => setMaxUses(event.currentTarget.checked ? -1 : Math.max(1, item.max_uses))}
            />
            {maxUses !== -1 && (
              <NumberInput label="Maximum uses" min={1} value={maxUses} onChange={(v) => setMaxUses(Number(v) || 1)} />
            )}
            <Text size="sm" c="dimmed">
              The count of uses so far ({item.usage_count}) is kept.
            </Text>
            <ErrorAlert error={update.error} title="Not changed" />
            <Group justify="end">
              <Button onClick={() => update.mutate()} loading={update.isPending}>
                Save
              </Button>
            </Group>
          </Stack>
        </Modal>
      </Table.Td>
    </Table.Tr>
  );
}

function UsageHistory({ name }: { name: string }): ReactNode {
  const usage = useQuery({
    queryKey: ['keys', name, 'usage'],
    queryFn: () =>
      call(() => api.GET('/api/v1/keys/{name}/usage', { params: { path: { name }, query: { limit: 50 } } })),
  });
  return (
    <QueryState isLoading={usage.isLoading} error={usage.error}>
      <Table aria-label="Usage history">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>When</Table.Th>
            <Table.Th>Outcome</Table.Th>
            <Table.Th>By</Table.Th>
            <Table.Th>Count</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(usage.data?.items ?? []).map((event) => (
            <Table.Tr key={event.id}>
              <Table.Td>{formatDate(event.created_at)}</Table.Td>
              <Table.Td>{event.outcome}</Table.Td>
              <Table.Td>{event.actor_type}</Table.Td>
              <Table.Td>{event.usage_count}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {usage.data?.total === 0 && <Text c="dimmed">Not used yet.</Text>}
    </QueryState>
  );
}

/** The create body; `assigned_user_ids` names the people who may use an admin-space key. */
type CreateBody = Schemas['CreateUsageKeyDto'] & { assigned_user_ids?: string[] };

function CreateKey(): ReactNode {
  const queryClient = useQueryClient();
  const [form, setForm] = useState({
    name: '',
    unlimited: false,
    max_uses: 5,
    secret: '',
    algorithm: 'sha1',
    digits: 6,
    period: 30,
    expires_at: '',
  });
  const [assigned, setAssigned] = useState<string[]>([]);
  const [search, setSearch] = useState('');
  const people = useQuery({
    queryKey: ['users', 'pick', search],
    queryFn: () =>
      call(() => api.GET('/api/v1/users', { params: { query: { limit: 20, ...(search ? { search } : {}) } } })),
  });
  const [known, setKnown] = useState<Record<string, string>>({});
  const create = useMutation({
    mutationFn: () => {
      const body: CreateBody = {
        name: form.name.trim(),
        max_uses: form.unlimited ? -1 : form.max_uses,
        algorithm: form.algorithm as CreateBody['algorithm'],
        digits: form.digits,
        period: form.period,
        ...(form.secret.trim() ? { secret: form.secret.replace(/\s+/g, '').toUpperCase() } : {}),
        ...(form.expires_at ? { expires_at: new Date(form.expires_at).toISOString() } : {}),
        ...(assigned.length > 0 ? { assigned_user_ids: assigned } : {}),
      };
      return call(() => api.POST('/api/v1/keys', { body: body as Schemas['CreateUsageKeyDto'] }));
    },
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['keys'] }),
  });
  const options = [
    ...(people.data?.items ?? []).map((user) => ({ value: user.id, label: `${user.username} (${user.email})` })),
    ...assigned
      .filter((id) => !people.data?.items.some((u) => u.id === id))
      .map((id) => ({ value: id, label: known[id] ?? id })),
  ];

  if (create.data) {
    return (
      <Stack maw={640}>
        <Alert color="yellow" title={`Key "${create.data.name}" created: save the secret now, it is not shown again`}>
          <Code block data-testid="created-secret">
            {create.data.secret}
          </Code>
        </Alert>
        <Group>
          <Button variant="light" onClick={() => void copyText(create.data.secret, 'Secret copied')}>
            Copy secret
          </Button>
          <Button onClick={() => create.reset()}>Create another</Button>
        </Group>
      </Stack>
    );
  }
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        create.mutate();
      }}
    >
      <Stack maw={640}>
        <TextInput
          label="Name"
          required
          value={form.name}
          onChange={(e) => setForm({ ...form, name: e.currentTarget.value })}
        />
        <Group align="end">
          <NumberInput
            label="Maximum uses"
            min={1}
            disabled={form.unlimited}
            value={form.max_uses}
            onChange={(v) => setForm({ ...form, max_uses: Number(v) || 1 })}
          />
          <Checkbox
            label="Unlimited"
            checked={form.unlimited}
            onChange={(e) => setForm({ ...form, unlimited: e.currentTarget.checked })}
            mb={8}
          />
        </Group>
        <MultiSelect
          label="Assigned people"
          description="Who may get codes from this key"
          searchable
          clearable
          data={options}
          value={assigned}
          searchValue={search}
          onSearchChange={setSearch}
          onChange={(ids) => {
            setAssigned(ids);
            const labels = { ...known };
            for (const option of options) labels[option.value] = option.label;
            setKnown(labels);
          }}
        />
        <TextInput
          label="Secret (base32)"
          description="Leave empty to have one generated"
          autoComplete="off"
          value={form.secret}
          onChange={(e) => setForm({ ...form, secret: e.currentTarget.value })}
        />
        <Group grow>
          <Select
            label="Algorithm"
            allowDeselect={false}
            data={[
              { value: 'sha1', label: 'SHA-1' },
              { value: 'sha256', label: 'SHA-256' },
              { value: 'sha512', label: 'SHA-512' },
            ]}
            value={form.algorithm}
            onChange={(v) => setForm({ ...form, algorithm: v ?? 'sha1' })}
          />
          <Select
            label="Digits"
            allowDeselect={false}
            data={['6', '7', '8']}
            value={String(form.digits)}
            onChange={(v) => setForm({ ...form, digits: Number(v ?? 6) })}
          />
          <NumberInput
            label="Period (s)"
            min={10}
            max={300}
            value={form.period}
            onChange={(v) => setForm({ ...form, period: Number(v) || 30 })}
          />
        </Group>
        <TextInput
          label="Expires at (optional)"
          type="datetime-local"
          value={form.expires_at}
          onChange={(e) => setForm({ ...form, expires_at: e.currentTarget.value })}
        />
        <ErrorAlert error={create.error} title="Not created" />
        <Group>
          <Button type="submit" loading={create.isPending}>
            Create key
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

const importColor = (status: string): string =>
  status === 'invalid' ? 'red' : status === 'skipped' ? 'gray' : 'green';

/** The reference key file ({NAME: {secret, max_uses, usage_count, ...}}): preview first, then import. */
function ImportKeys(): ReactNode {
  const queryClient = useQueryClient();
  const [text, setText] = useState('');
  const [replace, setReplace] = useState(false);
  const [parseError, setParseError] = useState<unknown>(null);
  const [preview, setPreview] = useState<Schemas['ImportUsageKeysResultDto'] | null>(null);
  const run = useMutation({
    mutationFn: (dryRun: boolean) => {
      let keys: Record<string, Schemas['UsageKeyImportEntryDto']>;
      try {
        keys = JSON.parse(text) as typeof keys;
      } catch (error) {
        throw new Error(`The file is not JSON: ${(error as Error).message}`, { cause: error });
      }
      return call(() => api.POST('/api/v1/keys/import', { body: { keys, dry_run: dryRun, replace } }));
    },
    onSuccess: (result) => {
      setPreview(result);
      if (!result.dry_run) {
        notifySuccess(`Imported: ${result.created} created, ${result.replaced} replaced, ${result.skipped} skipped`);
        void queryClient.invalidateQueries({ queryKey: ['keys'] });
      }
    },
    onError: setParseError,
  });
  const readFile = async (file: File | undefined) => {
    if (!file) return;
    setText(await file.text());
    setPreview(null);
  };
  return (
    <Stack maw={800}>
      <input
        type="file"
        accept="application/json,.json"
        aria-label="Key file (JSON)"
        onChange={(event) => void readFile(event.currentTarget.files?.[0])}
      />
      <Textarea
        label="Key file contents"
        description='{"NAME": {"secret": "...", "max_uses": 5, "usage_count": 0, "created_at": "...", "last_used": null}}'
        autosize
        minRows={4}
        maxRows={14}
        value={text}
        onChange={(event) => {
          setText(event.currentTarget.value);
          setPreview(null);
        }}
      />
      <Switch
        label="Replace keys that already exist"
        checked={replace}
        onChange={(e) => setReplace(e.currentTarget.checked)}
      />
      <ErrorAlert error={parseError} title="Not imported" />
      <Group>
        <Button
          variant="light"
          onClick={() => run.mutate(true)}
          loading={run.isPending && run.variables}
          disabled={!text.trim()}
        >
          Preview (dry run)
        </Button>
        <Button
          onClick={() => run.mutate(false)}
          loading={run.isPending && !run.variables}
          disabled={!preview?.dry_run}
        >
          Import
        </Button>
      </Group>
      {preview && (
        <Stack>
          <Text fw={600}>
            {preview.dry_run ? 'Preview: nothing written yet. ' : 'Imported. '}
            {preview.created} to create, {preview.replaced} to replace, {preview.skipped} skipped, {preview.invalid}{' '}
            invalid
          </Text>
          <Table aria-label="Import preview">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Key</Table.Th>
                <Table.Th>Result</Table.Th>
                <Table.Th>Message</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {preview.results.map((item) => (
                <Table.Tr key={item.name}>
                  <Table.Td>{item.name}</Table.Td>
                  <Table.Td>
                    <Badge color={importColor(item.status)}>{item.status}</Badge>
                  </Table.Td>
                  <Table.Td>{item.errors?.join('; ') ?? ''}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Stack>
      )}
    </Stack>
  );
}
