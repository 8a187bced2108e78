import {
  Alert,
  Button,
  Code,
  FileInput,
  Group,
  NumberInput,
  SegmentedControl,
  Select,
  Stack,
  Table,
  Tabs,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { useNavigate } from 'react-router';
import { api, call, type Schemas } from '../api/client';
import { ErrorAlert } from '../components/common';
import { copyText, notifySuccess } from '../lib/notify';
import { decodeQrImage } from '../lib/qr-decode';

type Algorithm = 'sha1' | 'sha256' | 'sha512';

/** Add an account by form, by otpauth URI, or by a QR image read in the browser. */
export function AddAccountPage(): ReactNode {
  return (
    <Stack>
      <Title order={2}>Add account</Title>
      <Tabs defaultValue="uri" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="uri">otpauth URI</Tabs.Tab>
          <Tabs.Tab value="form">Form</Tabs.Tab>
          <Tabs.Tab value="qr">QR image</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="uri" pt="md">
          <UriImport />
        </Tabs.Panel>
        <Tabs.Panel value="form" pt="md">
          <AccountForm />
        </Tabs.Panel>
        <Tabs.Panel value="qr" pt="md">
          <QrImport />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

function useImport() {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  return useMutation({
    mutationFn: (uris: string[]) => call(() => api.POST('/api/v1/otp/configs/import', { body: { uris } })),
    onSuccess: (result) => {
      void queryClient.invalidateQueries({ queryKey: ['codes'] });
      void queryClient.invalidateQueries({ queryKey: ['configs'] });
      if (result.imported > 0 && result.invalid === 0 && result.duplicates === 0) {
        notifySuccess(`${result.imported} account${result.imported === 1 ? '' : 's'} added`);
        void navigate('/');
      }
    },
  });
}

function ImportResults({ result }: { result: Schemas['ImportResultDto'] | undefined }): ReactNode {
  if (!result) return null;
  return (
    <Table aria-label="Import results">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>#</Table.Th>
          <Table.Th>Status</Table.Th>
          <Table.Th>Account</Table.Th>
          <Table.Th>Message</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {result.results.map((item) => (
          <Table.Tr key={item.index}>
            <Table.Td>{item.index + 1}</Table.Td>
            <Table.Td>{item.status}</Table.Td>
            <Table.Td>{item.name ?? '—'}</Table.Td>
            <Table.Td>{item.message ?? ''}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

function UriImport(): ReactNode {
  const [text, setText] = useState('');
  const importer = useImport();
  const uris = text
    .split(/\s+/)
    .map((line) => line.trim())
    .filter(Boolean);
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        importer.mutate(uris);
      }}
    >
      <Stack maw={640}>
        <Textarea
          label="otpauth URI"
          description="One per line: otpauth://totp/Issuer:account?secret=...&issuer=..."
          autosize
          minRows={2}
          required
          value={text}
          onChange={(event) => setText(event.currentTarget.value)}
        />
        <ErrorAlert error={importer.error} title="Not added" />
        <ImportResults result={importer.data} />
        <Group>
          <Button type="submit" loading={importer.isPending} disabled={uris.length === 0}>
            Add
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function QrImport(): ReactNode {
  const [uri, setUri] = useState<string | null>(null);
  const [readError, setReadError] = useState<unknown>(null);
  const importer = useImport();
  const read = async (file: File | null) => {
    setUri(null);
    setReadError(null);
    if (!file) return;
    try {
      setUri(await decodeQrImage(file));
    } catch (error) {
      setReadError(error);
    }
  };
  return (
    <Stack maw={640}>
      <FileInput
        label="QR code image"
        description="A screenshot or photo of an enrolment QR code; it is read in this browser"
        accept="image/*"
        clearable
        onChange={(file) => void read(file)}
      />
      <ErrorAlert error={readError} title="Could not read the image" />
      {uri && (
        <Alert color="blue" title="Found">
          <Code block data-testid="qr-uri">
            {uri.replace(/secret=[^&]+/i, 'secret=••••')}
          </Code>
        </Alert>
      )}
      <ErrorAlert error={importer.error} title="Not added" />
      <ImportResults result={importer.data} />
      <Group>
        <Button onClick={() => uri && importer.mutate([uri])} disabled={!uri} loading={importer.isPending}>
          Add
        </Button>
      </Group>
    </Stack>
  );
}

function AccountForm(): ReactNode {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [form, setForm] = useState({
    name: '',
    issuer: '',
    account_name: '',
    secret: '',
    otp_type: 'totp' as 'totp' | 'hotp',
    algorithm: 'sha1' as Algorithm,
    digits: 6,
    interval: 30,
    counter: 0,
  });
  const create = useMutation({
    mutationFn: () =>
      call(() =>
        api.POST('/api/v1/otp/configs', {
          body: {
            name: form.name.trim(),
            otp_type: form.otp_type,
            algorithm: form.algorithm,
            digits: form.digits,
            ...(form.otp_type === 'totp' ? { interval: form.interval } : { counter: form.counter }),
            ...(form.issuer.trim() ? { issuer: form.issuer.trim() } : {}),
            ...(form.account_name.trim() ? { account_name: form.account_name.trim() } : {}),
            ...(form.secret.trim() ? { secret: form.secret.replace(/\s+/g, '').toUpperCase() } : {}),
          },
        }),
      ),
    onSuccess: (created) => {
      void queryClient.invalidateQueries({ queryKey: ['codes'] });
      void queryClient.invalidateQueries({ queryKey: ['configs'] });
      if (!form.secret.trim()) return; // a generated secret is shown once below
      notifySuccess(`Account "${created.name}" added`);
      void navigate('/');
    },
  });
  const set = <K extends keyof typeof form>(key: K, value: (typeof form)[K]) => setForm({ ...form, [key]: value });

  if (create.data && !form.secret.trim()) {
    return (
      <Stack maw={640}>
        <Alert color="yellow" title="Save this secret now: it is not shown again">
          <Stack gap="xs">
            <Code block>{create.data.secret}</Code>
            <Text size="sm">Provisioning URI:</Text>
            <Code block>{create.data.provisioning_uri}</Code>
          </Stack>
        </Alert>
        <Group>
          <Button variant="light" onClick={() => void copyText(create.data.secret, 'Secret copied')}>
            Copy secret
          </Button>
          <Button onClick={() => void navigate('/')}>Done</Button>
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
        <SegmentedControl
          aria-label="Type"
          value={form.otp_type}
          onChange={(value) => set('otp_type', value as 'totp' | 'hotp')}
          data={[
            { value: 'totp', label: 'Time-based (TOTP)' },
            { value: 'hotp', label: 'Counter-based (HOTP)' },
          ]}
        />
        <TextInput label="Name" required value={form.name} onChange={(e) => set('name', e.currentTarget.value)} />
        <Group grow>
          <TextInput label="Issuer" value={form.issuer} onChange={(e) => set('issuer', e.currentTarget.value)} />
          <TextInput
            label="Account"
            value={form.account_name}
            onChange={(e) => set('account_name', e.currentTarget.value)}
          />
        </Group>
        <TextInput
          label="Secret (base32)"
          description="Leave empty to have the service generate a strong one"
          autoComplete="off"
          value={form.secret}
          onChange={(e) => set('secret', e.currentTarget.value)}
        />
        <Group grow>
          <Select
            label="Algorithm"
            data={[
              { value: 'sha1', label: 'SHA-1' },
              { value: 'sha256', label: 'SHA-256' },
              { value: 'sha512', label: 'SHA-512' },
            ]}
            value={form.algorithm}
            allowDeselect={false}
            onChange={(value) => set('algorithm', (value ?? 'sha1') as Algorithm)}
          />
          <Select
            label="Digits"
            data={['6', '7', '8']}
            value={String(form.digits)}
            allowDeselect={false}
            onChange={(value) => set('digits', Number(value ?? 6))}
          />
          {form.otp_type === 'totp' ? (
            <NumberInput
              label="Period (s)"
              min={10}
              max={300}
              value={form.interval}
              onChange={(value) => set('interval', Number(value) || 30)}
            />
          ) : (
            <NumberInput
              label="Counter"
              min={0}
              value={form.counter}
              onChange={(value) => set('counter', Number(value) || 0)}
            />
          )}
        </Group>
        <ErrorAlert error={create.error} title="Not added" />
        <Group>
          <Button type="submit" loading={create.isPending}>
            Add account
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
