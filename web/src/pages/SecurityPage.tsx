import {
  Badge,
  Button,
  Card,
  Code,
  Group,
  Image,
  PasswordInput,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { api, call, type Schemas } from '../api/client';
import { ErrorAlert, QueryState, formatDate } from '../components/common';
import { copyText, download, notifyError, notifySuccess } from '../lib/notify';

export function SecurityPage(): ReactNode {
  return (
    <Stack>
      <Title order={2}>Security & sessions</Title>
      <MfaCard />
      <SessionsCard />
    </Stack>
  );
}

function MfaCard(): ReactNode {
  const queryClient = useQueryClient();
  const me = useQuery({ queryKey: ['me'], queryFn: () => call(() => api.GET('/api/v1/users/me')) });
  const [enrolment, setEnrolment] = useState<Schemas['MfaEnrolmentDto'] | null>(null);
  const [code, setCode] = useState('');
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null);
  const [disable, setDisable] = useState({ password: '', code: '' });

  const enable = useMutation({
    mutationFn: () => call(() => api.POST('/api/v1/auth/mfa/enable')),
    onSuccess: setEnrolment,
    onError: (error) => notifyError(error),
  });
  const verify = useMutation({
    mutationFn: () => call(() => api.POST('/api/v1/auth/mfa/verify', { body: { code: code.trim() } })),
    onSuccess: (answer) => {
      setRecoveryCodes(answer.recovery_codes);
      setEnrolment(null);
      setCode('');
      void queryClient.invalidateQueries({ queryKey: ['me'] });
    },
  });
  const remove = useMutation({
    mutationFn: () => call(() => api.POST('/api/v1/auth/mfa/disable', { body: disable })),
    onSuccess: () => {
      setDisable({ password: '', code: '' });
      notifySuccess('Two-factor authentication is off');
      void queryClient.invalidateQueries({ queryKey: ['me'] });
    },
  });

  return (
    <Card withBorder>
      <Stack>
        <Group justify="space-between">
          <Title order={3}>Two-factor authentication</Title>
          {me.data && (
            <Badge color={me.data.mfa_enabled ? 'teal' : 'gray'} data-testid="mfa-status">
              {me.data.mfa_enabled ? 'On' : 'Off'}
            </Badge>
          )}
        </Group>
        <QueryState isLoading={me.isLoading} error={me.error}>
          {recoveryCodes && (
            <Stack data-testid="recovery-codes">
              <Text fw={600}>
                Recovery codes: each signs you in once if you lose your authenticator. They are shown only now.
              </Text>
              <SimpleGrid cols={{ base: 2, sm: 4 }}>
                {recoveryCodes.map((value) => (
                  <Code key={value}>{value}</Code>
                ))}
              </SimpleGrid>
              <Group>
                <Button
                  variant="light"
                  onClick={() => void copyText(recoveryCodes.join('\n'), 'Recovery codes copied')}
                >
                  Copy
                </Button>
                <Button
                  variant="light"
                  onClick={() => download('recovery-codes.txt', recoveryCodes.join('\n') + '\n', 'text/plain')}
                >
                  Download
                </Button>
                <Button variant="subtle" onClick={() => setRecoveryCodes(null)}>
                  I have saved them
                </Button>
              </Group>
            </Stack>
          )}
          {!me.data?.mfa_enabled && !enrolment && (
            <Group>
              <Text>Protect sign-in with a code from an authenticator app.</Text>
              <Button onClick={() => enable.mutate()} loading={enable.isPending}>
                Set up two-factor authentication
              </Button>
            </Group>
          )}
          {enrolment && (
            <Stack>
              <Text>Scan the QR code with your authenticator app (or enter the secret), then confirm with a code.</Text>
              <div className="qr-frame">
                <Image src={enrolment.qr_code} alt="QR code for your authenticator app" w={220} h={220} />
              </div>
              <Text size="sm">
                Secret: <Code data-testid="mfa-secret">{enrolment.mfa_secret}</Code>
              </Text>
              <form
                onSubmit={(event) => {
                  event.preventDefault();
                  verify.mutate();
                }}
              >
                <Group align="end">
                  <TextInput
                    label="Code from the app"
                    autoComplete="one-time-code"
                    inputMode="numeric"
                    required
                    value={code}
                    onChange={(event) => setCode(event.currentTarget.value)}
                  />
                  <Button type="submit" loading={verify.isPending}>
                    Confirm
                  </Button>
                </Group>
              </form>
              <ErrorAlert error={verify.error} title="Not confirmed" />
            </Stack>
          )}
          {me.data?.mfa_enabled && (
            <form
              onSubmit={(event) => {
                event.preventDefault();
                remove.mutate();
              }}
            >
              <Stack maw={420}>
                <Text size="sm">Turning it off needs your password and a current code (or a recovery code).</Text>
                <PasswordInput
                  label="Password"
                  autoComplete="current-password"
                  required
                  value={disable.password}
                  onChange={(event) => setDisable({ ...disable, password: event.currentTarget.value })}
                />
                <TextInput
                  label="Code"
                  autoComplete="one-time-code"
                  required
                  value={disable.code}
                  onChange={(event) => setDisable({ ...disable, code: event.currentTarget.value })}
                />
                <ErrorAlert error={remove.error} title="Still on" />
                <Button color="red" variant="light" type="submit" loading={remove.isPending}>
                  Turn off two-factor authentication
                </Button>
              </Stack>
            </form>
          )}
        </QueryState>
      </Stack>
    </Card>
  );
}

function SessionsCard(): ReactNode {
  const queryClient = useQueryClient();
  const sessions = useQuery({
    queryKey: ['sessions'],
    queryFn: () => call(() => api.GET('/api/v1/auth/sessions')),
  });
  const revoke = useMutation({
    mutationFn: (id: string) => call(() => api.DELETE('/api/v1/auth/sessions/{id}', { params: { path: { id } } })),
    onSuccess: () => {
      notifySuccess('Session signed out');
      void queryClient.invalidateQueries({ queryKey: ['sessions'] });
    },
    onError: (error) => notifyError(error),
  });
  return (
    <Card withBorder>
      <Stack>
        <Title order={3}>Sessions</Title>
        <QueryState isLoading={sessions.isLoading} error={sessions.error}>
          <Table.ScrollContainer minWidth={560}>
            <Table striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Device</Table.Th>
                  <Table.Th>IP</Table.Th>
                  <Table.Th>Started</Table.Th>
                  <Table.Th>Last used</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {(sessions.data ?? []).map((item) => (
                  <Table.Tr key={item.id}>
                    <Table.Td>
                      <Text size="sm" lineClamp={1} title={item.user_agent ?? undefined}>
                        {item.user_agent || 'unknown'}
                      </Text>
                      {item.current && <Badge size="xs">this session</Badge>}
                    </Table.Td>
                    <Table.Td>{item.ip || '—'}</Table.Td>
                    <Table.Td>{formatDate(item.created_at)}</Table.Td>
                    <Table.Td>{formatDate(item.last_used_at)}</Table.Td>
                    <Table.Td>
                      {!item.current && (
                        <Button
                          size="xs"
                          color="red"
                          variant="light"
                          onClick={() => revoke.mutate(item.id)}
                          aria-label={`Revoke session from ${item.ip || 'unknown'}`}
                        >
                          Revoke
                        </Button>
                      )}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </QueryState>
      </Stack>
    </Card>
  );
}
