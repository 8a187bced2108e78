import {
  Alert,
  Badge,
  Button,
  Card,
  Code,
  Group,
  Modal,
  MultiSelect,
  Pagination,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { api, call, type Schemas } from '../../api/client';
import { ErrorAlert, QueryState, formatDate } from '../../components/common';
import { copyText, notifyError, notifySuccess } from '../../lib/notify';

type Scope = Schemas['CreateApiKeyDto']['scopes'][number];
const SCOPES: Scope[] = ['devices:write', 'devices:read', 'devices:verify', 'keys:use', 'keys:admin'];
const PAGE = 20;

export function ApiKeysPage(): ReactNode {
  const [page, setPage] = useState(1);
  const [secret, setSecret] = useState<{ name: string; key: string } | null>(null);
  const keys = useQuery({
    queryKey: ['api-keys', page],
    queryFn: () =>
      call(() => api.GET('/api/v1/api-keys', { params: { query: { limit: PAGE, offset: (page - 1) * PAGE } } })),
  });
  return (
    <Stack>
      <Title order={2}>API keys</Title>
      <Text size="sm" c="dimmed">
        Credentials of enterprise clients. Their devices are theirs alone and are not shown here.
      </Text>
      {secret && (
        <Alert
          color="yellow"
          title={`Key for "${secret.name}": copy it now, it is not shown again`}
          withCloseButton
          onClose={() => setSecret(null)}
        >
          <Group>
            <Code data-testid="api-key-secret">{secret.key}</Code>
            <Button size="xs" variant="light" onClick={() => void copyText(secret.key, 'API key copied')}>
              Copy
            </Button>
          </Group>
        </Alert>
      )}
      <CreateApiKey onCreated={setSecret} />
      <QueryState isLoading={keys.isLoading} error={keys.error}>
        <Table.ScrollContainer minWidth={860}>
          <Table striped aria-label="API keys">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Client</Table.Th>
                <Table.Th>Prefix</Table.Th>
                <Table.Th>Scopes</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Last used</Table.Th>
                <Table.Th>Actions</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {(keys.data?.items ?? []).map((key) => (
                <ApiKeyRow key={key.id} item={key} onSecret={setSecret} />
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        {keys.data && keys.data.total > PAGE && (
          <Pagination total={Math.ceil(keys.data.total / PAGE)} value={page} onChange={setPage} />
        )}
      </QueryState>
    </Stack>
  );
}

function CreateApiKey({ onCreated }: { onCreated: (secret: { name: string; key: string }) => void }): ReactNode {
  const queryClient = useQueryClient();
  const [form, setForm] = useState({ name: '', client_id: '', scopes: ['devices:write', 'devices:verify'] as Scope[] });
  const create = useMutation({
    mutationFn: () =>
      call(() =>
        api.POST('/api/v1/api-keys', {
          body: { name: form.name.trim(), client_id: form.client_id.trim(), scopes: form.scopes },
        }),
      ),
    onSuccess: (created) => {
      onCreated({ name: created.name, key: created.key });
      setForm({ ...form, name: '' });
      void queryClient.invalidateQueries({ queryKey: ['api-keys'] });
    },
  });
  return (
    <Card withBorder>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          create.mutate();
        }}
      >
        <Stack>
          <Title order={4}>New API key</Title>
          <Group grow align="start">
            <TextInput
              label="Name"
              required
              value={form.name}
              onChange={(e) => setForm({ ...form, name: e.currentTarget.value })}
            />
            <TextInput
              label="Client id"
              required
              value={form.client_id}
              onChange={(e) => setForm({ ...form, client_id: e.currentTarget.value })}
            />
          </Group>
          <MultiSelect
            label="Scopes"
            data={SCOPES}
            value={form.scopes}
            onChange={(scopes) => setForm({ ...form, scopes: scopes as Scope[] })}
          />
          <ErrorAlert error={create.error} title="Not created" />
          <Group>
            <Button type="submit" loading={create.isPending}>
              Create
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

function ApiKeyRow({
  item,
  onSecret,
}: {
  item: Schemas['ApiKeyResponseDto'];
  onSecret: (secret: { name: string; key: string }) => void;
}): ReactNode {
  const queryClient = useQueryClient();
  const [confirmOpen, confirm] = useDisclosure(false);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['api-keys'] });
  const path = { params: { path: { id: item.id } } };
  const rotate = useMutation({
    mutationFn: () => call(() => api.POST('/api/v1/api-keys/{id}/rotate', path)),
    onSuccess: (rotated) => {
      onSecret({ name: rotated.name, key: rotated.key });
      refresh();
    },
    onError: (error) => notifyError(error),
  });
  const revoke = useMutation({
    mutationFn: () => call(() => api.DELETE('/api/v1/api-keys/{id}', path)),
    onSuccess: () => {
      notifySuccess(`"${item.name}" revoked`);
      confirm.close();
      refresh();
    },
    onError: (error) => notifyError(error),
  });
  const active = item.status === 'active';
  return (
    <Table.Tr>
      <Table.Td>{item.name}</Table.Td>
      <Table.Td>{item.client_id}</Table.Td>
      <Table.Td>
        <Code>{item.prefix}</Code>
      </Table.Td>
      <Table.Td>
        <Group gap={4}>
          {item.scopes.map((scope) => (
            <Badge key={scope} variant="light" size="sm">
              {scope}
            </Badge>
          ))}
        </Group>
      </Table.Td>
      <Table.Td>
        <Badge color={active ? 'teal' : 'gray'}>{item.status}</Badge>
      </Table.Td>
      <Table.Td>{formatDate(item.last_used_at)}</Table.Td>
      <Table.Td>
        {active && (
          <Group gap={4} wrap="nowrap">
            <Button size="xs" variant="default" onClick={() => rotate.mutate()} loading={rotate.isPending}>
              Rotate
            </Button>
            <Button size="xs" color="red" variant="light" onClick={confirm.open}>
              Revoke
            </Button>
          </Group>
        )}
        <Modal opened={confirmOpen} onClose={confirm.close} title={`Revoke "${item.name}"?`}>
          <Stack>
            <Text>Calls with this key are refused from now on. This cannot be undone.</Text>
            <Group justify="end">
              <Button variant="default" onClick={confirm.close}>
                Cancel
              </Button>
              <Button color="red" onClick={() => revoke.mutate()} loading={revoke.isPending}>
                Revoke
              </Button>
            </Group>
          </Stack>
        </Modal>
      </Table.Td>
    </Table.Tr>
  );
}
