import {
  Badge,
  Button,
  Card,
  Code,
  Group,
  Image,
  Modal,
  SimpleGrid,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type ReactNode } from 'react';
import { useNavigate, useParams } from 'react-router';
import { api, call, type Schemas } from '../api/client';
import { ErrorAlert, QueryState, displayName, formatDate } from '../components/common';
import { copyText, notifyError, notifySuccess } from '../lib/notify';

export function AccountDetailPage(): ReactNode {
  const { id = '' } = useParams();
  const config = useQuery({
    queryKey: ['configs', id],
    queryFn: () => call(() => api.GET('/api/v1/otp/configs/{id}', { params: { path: { id } } })),
  });
  return (
    <Stack>
      <QueryState isLoading={config.isLoading} error={config.error}>
        {config.data && (
          <>
            <Group justify="space-between">
              <Title order={2}>{displayName(config.data)}</Title>
              <Badge variant="light">
                {config.data.otp_type.toUpperCase()} · {config.data.algorithm} · {config.data.digits} digits
                {config.data.otp_type === 'totp' ? ` · ${config.data.interval} s` : ''}
              </Badge>
            </Group>
            <SimpleGrid cols={{ base: 1, md: 2 }}>
              <EditCard config={config.data} />
              <QrCard config={config.data} />
              <ValidateCard config={config.data} />
              <EventsCard configId={config.data.id} />
            </SimpleGrid>
          </>
        )}
      </QueryState>
    </Stack>
  );
}

function EditCard({ config }: { config: Schemas['OtpConfigResponseDto'] }): ReactNode {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [confirmOpen, confirm] = useDisclosure(false);
  const [form, setForm] = useState({
    name: config.name,
    issuer: config.issuer ?? '',
    account_name: config.account_name ?? '',
    is_active: config.is_active,
  });
  useEffect(() => {
    setForm({
      name: config.name,
      issuer: config.issuer ?? '',
      account_name: config.account_name ?? '',
      is_active: config.is_active,
    });
  }, [config]);
  const invalidate = () => {
    void queryClient.invalidateQueries({ queryKey: ['configs'] });
    void queryClient.invalidateQueries({ queryKey: ['codes'] });
  };
  const save = useMutation({
    mutationFn: () =>
      call(() =>
        api.PATCH('/api/v1/otp/configs/{id}', {
          params: { path: { id: config.id } },
          body: {
            name: form.name.trim(),
            issuer: form.issuer.trim(),
            account_name: form.account_name.trim(),
            is_active: form.is_active,
          },
        }),
      ),
    onSuccess: () => {
      notifySuccess('Saved');
      invalidate();
    },
  });
  const remove = useMutation({
    mutationFn: () => call(() => api.DELETE('/api/v1/otp/configs/{id}', { params: { path: { id: config.id } } })),
    onSuccess: () => {
      notifySuccess(`Account "${config.name}" deleted`);
      invalidate();
      void navigate('/');
    },
    onError: (error) => notifyError(error),
  });
  return (
    <Card withBorder>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          save.mutate();
        }}
      >
        <Stack>
          <Title order={3}>Edit</Title>
          <TextInput
            label="Name"
            required
            value={form.name}
            onChange={(e) => setForm({ ...form, name: e.currentTarget.value })}
          />
          <TextInput
            label="Issuer"
            value={form.issuer}
            onChange={(e) => setForm({ ...form, issuer: e.currentTarget.value })}
          />
          <TextInput
            label="Account"
            value={form.account_name}
            onChange={(e) => setForm({ ...form, account_name: e.currentTarget.value })}
          />
          <Switch
            label="Active"
            checked={form.is_active}
            onChange={(e) => setForm({ ...form, is_active: e.currentTarget.checked })}
          />
          <ErrorAlert error={save.error} title="Not saved" />
          <Group justify="space-between">
            <Button type="submit" loading={save.isPending}>
              Save
            </Button>
            <Button color="red" variant="light" onClick={confirm.open}>
              Delete
            </Button>
          </Group>
        </Stack>
      </form>
      <Modal opened={confirmOpen} onClose={confirm.close} title="Delete this account?">
        <Stack>
          <Text>
            “{config.name}” and its secret are removed for good. Codes from it stop working here; keep another way to
            sign in to that service.
          </Text>
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
    </Card>
  );
}

/** The QR comes from the service as SVG and is shown as an image (it cannot run anything). */
function QrCard({ config }: { config: Schemas['OtpConfigResponseDto'] }): ReactNode {
  const qr = useMutation({
    mutationFn: () =>
      call(() =>
        api.GET('/api/v1/otp/configs/{id}/qr', { params: { path: { id: config.id }, query: { format: 'svg' } } }),
      ),
  });
  return (
    <Card withBorder>
      <Stack>
        <Title order={3}>QR code</Title>
        {qr.data ? (
          <>
            <div className="qr-frame">
              <Image
                src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(qr.data.qr_code)}`}
                alt={`QR code for ${config.name}`}
                w={220}
                h={220}
              />
            </div>
            <Group>
              <Button variant="light" size="xs" onClick={() => void copyText(qr.data.provisioning_uri, 'URI copied')}>
                Copy otpauth URI
              </Button>
              <Button variant="subtle" size="xs" onClick={() => qr.reset()}>
                Hide
              </Button>
            </Group>
          </>
        ) : (
          <>
            <Text size="sm" c="dimmed">
              The QR code holds the secret: scan it to move this account to another authenticator.
            </Text>
            <Group>
              <Button onClick={() => qr.mutate()} loading={qr.isPending}>
                Show QR code
              </Button>
            </Group>
          </>
        )}
        <ErrorAlert error={qr.error} title="Not shown" />
      </Stack>
    </Card>
  );
}

function ValidateCard({ config }: { config: Schemas['OtpConfigResponseDto'] }): ReactNode {
  const [code, setCode] = useState('');
  const validate = useMutation({
    mutationFn: () =>
      call(() => api.POST('/api/v1/otp/validate', { body: { config_id: config.id, otp_code: code.trim() } })),
  });
  return (
    <Card withBorder>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          validate.mutate();
        }}
      >
        <Stack>
          <Title order={3}>Validate a code</Title>
          <Group align="end">
            <TextInput
              label="Code"
              inputMode="numeric"
              autoComplete="off"
              required
              value={code}
              onChange={(event) => setCode(event.currentTarget.value)}
            />
            <Button type="submit" loading={validate.isPending}>
              Check
            </Button>
          </Group>
          {validate.data && (
            <Text c={validate.data.is_valid ? 'teal' : 'red'} role="status" data-testid="validate-result">
              {validate.data.is_valid ? 'Valid' : 'Not valid'}: {validate.data.message}
            </Text>
          )}
          <ErrorAlert error={validate.error} title="Not checked" />
        </Stack>
      </form>
    </Card>
  );
}

function EventsCard({ configId }: { configId: string }): ReactNode {
  const events = useQuery({
    queryKey: ['events', 'recent'],
    queryFn: () => call(() => api.GET('/api/v1/otp/events/recent', { params: { query: { limit: 50 } } })),
  });
  const mine = (events.data ?? []).filter((event) => event.config_id === configId).slice(0, 10);
  return (
    <Card withBorder>
      <Stack>
        <Title order={3}>Recent activity</Title>
        <QueryState isLoading={events.isLoading} error={events.error}>
          {mine.length === 0 ? (
            <Text size="sm" c="dimmed">
              Nothing yet.
            </Text>
          ) : (
            <Table>
              <Table.Tbody>
                {mine.map((event) => (
                  <Table.Tr key={event.id}>
                    <Table.Td>
                      <Code>{event.event_type}</Code>
                    </Table.Td>
                    <Table.Td>{formatDate(event.created_at)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </QueryState>
      </Stack>
    </Card>
  );
}
