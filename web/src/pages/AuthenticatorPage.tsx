import {
  Anchor,
  Badge,
  Button,
  Card,
  Group,
  RingProgress,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Title,
  UnstyledButton,
} from '@mantine/core';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import { api, call, type Schemas } from '../api/client';
import { QueryState, displayName } from '../components/common';
import { copyText, notifyError } from '../lib/notify';

type LiveCode = Schemas['LiveCodeDto'];
const EXPIRING_SECONDS = 5;

/**
 * When each code's step ends, on this browser's clock: the server says what time it is
 * (`generated_at`), so the step boundary is exact even when the two clocks differ.
 */
function deadlines(data: Schemas['LiveCodesDto'], receivedAt: number): Map<string, number> {
  const serverNow = Date.parse(data.generated_at);
  const result = new Map<string, number>();
  for (const item of data.items) {
    const periodMs = item.interval * 1000;
    const boundary = (Math.floor(serverNow / periodMs) + 1) * periodMs;
    result.set(item.config_id, receivedAt + (boundary - serverNow));
  }
  return result;
}

/** One ticking clock for the whole page (four times a second, for a smooth countdown). */
function useNow(intervalMs = 250): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

export function AuthenticatorPage(): ReactNode {
  const [search, setSearch] = useState('');
  const codes = useQuery({
    queryKey: ['codes'],
    queryFn: async () => {
      const data = await call(() => api.GET('/api/v1/otp/codes'));
      return { data, receivedAt: Date.now() };
    },
    staleTime: Infinity,
  });
  const hotp = useQuery({
    queryKey: ['configs', 'hotp'],
    queryFn: () => call(() => api.GET('/api/v1/otp/configs', { params: { query: { otp_type: 'hotp', limit: 100 } } })),
  });
  const now = useNow();
  const ends = useMemo(
    () => (codes.data ? deadlines(codes.data.data, codes.data.receivedAt) : new Map()),
    [codes.data],
  );

  // One request for all codes when the earliest step ends: never more than once per step.
  const refetch = codes.refetch;
  useEffect(() => {
    if (ends.size === 0) return;
    const next = Math.min(...ends.values());
    const timer = setTimeout(() => void refetch(), Math.max(50, next - Date.now() + 50));
    return () => clearTimeout(timer);
  }, [ends, refetch]);

  const needle = search.trim().toLowerCase();
  const matches = (...fields: (string | null | undefined)[]) =>
    !needle || fields.some((field) => field?.toLowerCase().includes(needle));
  const items = (codes.data?.data.items ?? []).filter((item) => matches(item.name, item.issuer, item.account_name));
  const hotpItems = (hotp.data?.items ?? []).filter((item) => matches(item.name, item.issuer, item.account_name));
  const empty = codes.data && hotp.data && codes.data.data.items.length === 0 && hotp.data.items.length === 0;

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Authenticator</Title>
        <Button component={Link} to="/accounts/new">
          Add account
        </Button>
      </Group>
      <TextInput
        label="Search"
        placeholder="Name, issuer or account"
        value={search}
        onChange={(event) => setSearch(event.currentTarget.value)}
        maw={360}
      />
      <QueryState isLoading={codes.isLoading} error={codes.error}>
        {empty && (
          <Text c="dimmed">
            No accounts yet.{' '}
            <Anchor component={Link} to="/accounts/new">
              Add your first one
            </Anchor>
            .
          </Text>
        )}
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} aria-label="Live codes">
          {items.map((item) => (
            <TotpCard key={item.config_id} item={item} secondsLeft={((ends.get(item.config_id) ?? now) - now) / 1000} />
          ))}
          {hotpItems.map((item) => (
            <HotpCard key={item.id} config={item} />
          ))}
        </SimpleGrid>
      </QueryState>
    </Stack>
  );
}

function groupDigits(code: string): string {
  if (code.length === 6) return `${code.slice(0, 3)} ${code.slice(3)}`;
  if (code.length === 8) return `${code.slice(0, 4)} ${code.slice(4)}`;
  return code;
}

function TotpCard({ item, secondsLeft }: { item: LiveCode; secondsLeft: number }): ReactNode {
  const left = Math.max(0, Math.ceil(secondsLeft));
  const expiring = left <= EXPIRING_SECONDS;
  const color = expiring ? 'red' : left <= item.interval / 3 ? 'yellow' : 'teal';
  const title = displayName(item);
  return (
    <Card withBorder className="code-card" data-testid="code-card" data-name={item.name} data-expiring={expiring}>
      <Group justify="space-between" wrap="nowrap" align="start">
        <Stack gap={0} style={{ minWidth: 0 }}>
          <Text fw={600} truncate>
            {title}
          </Text>
          {item.account_name && (
            <Text size="sm" c="dimmed" truncate>
              {item.account_name}
            </Text>
          )}
        </Stack>
        <RingProgress
          size={52}
          thickness={5}
          roundCaps
          sections={[{ value: (Math.max(0, secondsLeft) / item.interval) * 100, color }]}
          label={
            <Text ta="center" size="xs" fw={700} data-testid="seconds-left">
              {left}
            </Text>
          }
          aria-label={`${left} seconds left`}
        />
      </Group>
      <UnstyledButton
        onClick={() => void copyText(item.code, 'Code copied')}
        aria-label={`Copy code for ${title}`}
        mt="xs"
      >
        <Text className="code-digits" data-testid="code" data-code={item.code}>
          {groupDigits(item.code)}
        </Text>
      </UnstyledButton>
      <Group justify="space-between" mt="xs">
        <Text size="xs" c="dimmed">
          Click the code to copy
        </Text>
        <Anchor component={Link} to={`/accounts/${item.config_id}`} size="sm">
          Details
        </Anchor>
      </Group>
    </Card>
  );
}

/** HOTP has no clock: each "next code" moves the counter on the service. */
function HotpCard({ config }: { config: Schemas['OtpConfigResponseDto'] }): ReactNode {
  const [code, setCode] = useState<Schemas['GeneratedOtpDto'] | null>(null);
  const next = useMutation({
    mutationFn: () =>
      call(() => api.POST('/api/v1/otp/generate', { body: { config_id: config.id, counter_increment: true } })),
    onSuccess: setCode,
    onError: (error) => notifyError(error),
  });
  const title = displayName(config);
  return (
    <Card withBorder className="code-card" data-testid="hotp-card" data-name={config.name}>
      <Group justify="space-between" wrap="nowrap">
        <Text fw={600} truncate>
          {title}
        </Text>
        <Badge variant="light">HOTP</Badge>
      </Group>
      {code ? (
        <UnstyledButton onClick={() => void copyText(code.code, 'Code copied')} aria-label={`Copy code for ${title}`}>
          <Text className="code-digits" data-testid="code">
            {groupDigits(code.code)}
          </Text>
        </UnstyledButton>
      ) : (
        <Text c="dimmed" my="sm">
          Counter {config.counter}
        </Text>
      )}
      <Group justify="space-between" mt="xs">
        <Button size="xs" variant="light" onClick={() => next.mutate()} loading={next.isPending}>
          Next code
        </Button>
        <Anchor component={Link} to={`/accounts/${config.id}`} size="sm">
          Details
        </Anchor>
      </Group>
    </Card>
  );
}
