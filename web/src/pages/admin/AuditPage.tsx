import {
  Alert,
  Badge,
  Button,
  Card,
  Code,
  Group,
  Pagination,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { api, call, callRaw } from '../../api/client';
import { QueryState, formatDate } from '../../components/common';
import { LazyChart } from '../../components/LazyChart';
import { download, notifyError } from '../../lib/notify';

const PAGE = 25;
type ActorType = 'user' | 'api_key' | 'system' | 'anonymous';

interface Filters {
  action: string;
  actor_type: string | null;
  actor_id: string;
  status: string | null;
  from: string;
  to: string;
}

/** The filters as query parameters (empty ones left out; local date-times sent as UTC). */
function toQuery(filters: Filters) {
  return {
    ...(filters.action.trim() ? { action: filters.action.trim() } : {}),
    ...(filters.actor_type ? { actor_type: filters.actor_type as ActorType } : {}),
    ...(filters.actor_id.trim() ? { actor_id: filters.actor_id.trim() } : {}),
    ...(filters.status ? { status: filters.status as 'success' | 'failure' } : {}),
    ...(filters.from ? { from: new Date(filters.from).toISOString() } : {}),
    ...(filters.to ? { to: new Date(filters.to).toISOString() } : {}),
  };
}

export function AuditPage(): ReactNode {
  const [filters, setFilters] = useState<Filters>({
    action: '',
    actor_type: null,
    actor_id: '',
    status: null,
    from: '',
    to: '',
  });
  const [page, setPage] = useState(1);
  const [debounced] = useDebouncedValue(filters, 300);
  const query = toQuery(debounced);
  const logs = useQuery({
    queryKey: ['audit', 'logs', query, page],
    queryFn: () =>
      call(() =>
        api.GET('/api/v1/audit/logs', { params: { query: { ...query, limit: PAGE, offset: (page - 1) * PAGE } } }),
      ),
  });
  const set = (patch: Partial<Filters>) => {
    setFilters({ ...filters, ...patch });
    setPage(1);
  };
  const exportAs = async (format: 'csv' | 'ndjson') => {
    try {
      const params = new URLSearchParams({ ...(query as Record<string, string>), format });
      const response = await callRaw(`/api/v1/audit/export?${params.toString()}`);
      download(
        `audit-${new Date().toISOString().slice(0, 19)}.${format}`,
        await response.blob(),
        response.headers.get('content-type') ?? 'text/plain',
      );
    } catch (error) {
      notifyError(error, 'Export failed');
    }
  };

  return (
    <Stack>
      <Title order={2}>Audit log</Title>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <TimelineCard />
        <VerifyCard />
      </SimpleGrid>
      <Card withBorder>
        <Stack>
          <Title order={4}>Filters</Title>
          <SimpleGrid cols={{ base: 1, sm: 3 }}>
            <TextInput
              label="Action"
              placeholder="e.g. auth.login"
              value={filters.action}
              onChange={(e) => set({ action: e.currentTarget.value })}
            />
            <Select
              label="Actor type"
              placeholder="Any"
              clearable
              data={['user', 'api_key', 'system', 'anonymous']}
              value={filters.actor_type}
              onChange={(actor_type) => set({ actor_type })}
            />
            <TextInput
              label="Actor id"
              value={filters.actor_id}
              onChange={(e) => set({ actor_id: e.currentTarget.value })}
            />
            <Select
              label="Status"
              placeholder="Any"
              clearable
              data={['success', 'failure']}
              value={filters.status}
              onChange={(status) => set({ status })}
            />
            <TextInput
              label="From"
              type="datetime-local"
              value={filters.from}
              onChange={(e) => set({ from: e.currentTarget.value })}
            />
            <TextInput
              label="To"
              type="datetime-local"
              value={filters.to}
              onChange={(e) => set({ to: e.currentTarget.value })}
            />
          </SimpleGrid>
          <Group>
            <Button variant="light" onClick={() => void exportAs('csv')}>
              Export CSV
            </Button>
            <Button variant="light" onClick={() => void exportAs('ndjson')}>
              Export NDJSON
            </Button>
          </Group>
        </Stack>
      </Card>
      <QueryState isLoading={logs.isLoading} error={logs.error}>
        <Text size="sm" c="dimmed" data-testid="audit-total">
          {logs.data?.total ?? 0} record{logs.data?.total === 1 ? '' : 's'}, newest first
        </Text>
        <Table.ScrollContainer minWidth={900}>
          <Table striped aria-label="Audit records">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>When</Table.Th>
                <Table.Th>Action</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Actor</Table.Th>
                <Table.Th>Resource</Table.Th>
                <Table.Th>IP</Table.Th>
                <Table.Th>Details</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {(logs.data?.items ?? []).map((log) => (
                <Table.Tr key={log.id} data-testid="audit-row" data-action={log.action} data-status={log.status}>
                  <Table.Td>{formatDate(log.created_at)}</Table.Td>
                  <Table.Td>
                    <Code>{log.action}</Code>
                  </Table.Td>
                  <Table.Td>
                    <Badge color={log.status === 'success' ? 'teal' : 'red'}>{log.status}</Badge>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{log.actor_type}</Text>
                    <Text size="xs" c="dimmed" truncate maw={160}>
                      {log.actor_id}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    {log.resource}
                    {log.resource_id ? ` ${log.resource_id.slice(0, 8)}` : ''}
                  </Table.Td>
                  <Table.Td>{log.ip ?? '—'}</Table.Td>
                  <Table.Td>
                    <Text size="xs" ff="monospace" lineClamp={2} maw={260}>
                      {log.details ? JSON.stringify(log.details) : ''}
                    </Text>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        {logs.data && logs.data.total > PAGE && (
          <Pagination total={Math.ceil(logs.data.total / PAGE)} value={page} onChange={setPage} />
        )}
      </QueryState>
    </Stack>
  );
}

function TimelineCard(): ReactNode {
  const [hours, setHours] = useState('24');
  const timeline = useQuery({
    queryKey: ['audit', 'timeline', hours],
    queryFn: () => call(() => api.GET('/api/v1/audit/timeline', { params: { query: { hours: Number(hours) } } })),
  });
  const data = (timeline.data?.buckets ?? []).map((bucket) => {
    const failures = bucket.counts.filter((c) => c.status === 'failure').reduce((sum, c) => sum + c.count, 0);
    return {
      hour: new Date(bucket.hour).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }),
      success: bucket.total - failures,
      failure: failures,
    };
  });
  return (
    <Card withBorder>
      <Group justify="space-between" mb="sm">
        <Title order={4}>Timeline per hour</Title>
        <Select
          aria-label="Hours shown"
          size="xs"
          w={110}
          allowDeselect={false}
          data={[
            { value: '24', label: '24 hours' },
            { value: '72', label: '3 days' },
            { value: '168', label: '7 days' },
          ]}
          value={hours}
          onChange={(value) => setHours(value ?? '24')}
        />
      </Group>
      <QueryState isLoading={timeline.isLoading} error={timeline.error}>
        <LazyChart
          kind="stacked"
          label="Audit records per hour, successes and failures"
          data={data}
          x="hour"
          height={220}
          series={[
            { key: 'success', label: 'Success', color: '#12b886' },
            { key: 'failure', label: 'Failure', color: '#fa5252' },
          ]}
        />
      </QueryState>
    </Card>
  );
}

function VerifyCard(): ReactNode {
  const verify = useMutation({ mutationFn: () => call(() => api.GET('/api/v1/audit/verify')) });
  const result = verify.data;
  return (
    <Card withBorder>
      <Stack>
        <Title order={4}>Hash chain</Title>
        <Text size="sm" c="dimmed">
          Every record is linked to the one before it; verifying recomputes every sealed link.
        </Text>
        <Group>
          <Button onClick={() => verify.mutate()} loading={verify.isPending}>
            Verify chain
          </Button>
        </Group>
        {result && (
          <Alert
            color={result.ok ? 'teal' : 'red'}
            title={result.ok ? 'Chain intact' : 'Chain broken'}
            data-testid="verify-result"
          >
            {result.checked} sealed records checked
            {result.unsealed > 0 ? `, ${result.unsealed} not sealed yet` : ''}
            {result.ok ? '.' : `; first broken record: ${result.first_broken_id}.`}
          </Alert>
        )}
        {verify.error && (
          <Alert color="red" title="Not verified">
            {(verify.error as Error).message}
          </Alert>
        )}
      </Stack>
    </Card>
  );
}
