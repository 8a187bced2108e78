import { Card, SimpleGrid, Stack, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { api, call } from '../api/client';
import { QueryState } from '../components/common';
import { LazyChart } from '../components/LazyChart';
import { StatCard } from '../components/StatCard';

export const formatRate = (rate: number | null): string => (rate === null ? '—' : `${Math.round(rate * 1000) / 10}%`);

export function StatsPage(): ReactNode {
  const stats = useQuery({ queryKey: ['metrics', 'me'], queryFn: () => call(() => api.GET('/api/v1/metrics/me')) });
  const data = stats.data;
  return (
    <Stack>
      <Title order={2}>My statistics</Title>
      <QueryState isLoading={stats.isLoading} error={stats.error}>
        {data && (
          <>
            <SimpleGrid cols={{ base: 2, sm: 4 }}>
              <StatCard label="Accounts" value={data.total_configs} hint={`${data.active_configs} active`} />
              <StatCard label="Codes generated" value={data.total_generations} />
              <StatCard label="Validations" value={data.total_validations} hint={`${data.failed_validations} failed`} />
              <StatCard label="Success rate" value={formatRate(data.success_rate)} />
            </SimpleGrid>
            <Card withBorder>
              <Title order={4} mb="sm">
                Last 7 days
              </Title>
              <LazyChart
                kind="bar"
                label="Generations and validations per day over the last 7 days"
                data={data.last_7_days.map((day) => ({ ...day, day: day.date.slice(5) }))}
                x="day"
                series={[
                  { key: 'generations', label: 'Generated', color: '#228be6' },
                  { key: 'successful_validations', label: 'Valid', color: '#12b886' },
                  { key: 'failed_validations', label: 'Failed', color: '#fa5252' },
                ]}
              />
            </Card>
          </>
        )}
      </QueryState>
    </Stack>
  );
}
