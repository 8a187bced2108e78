import { Card, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { api, call } from '../../api/client';
import { QueryState, formatDate } from '../../components/common';
import { LazyChart } from '../../components/LazyChart';
import { StatCard } from '../../components/StatCard';
import { formatRate } from '../StatsPage';

export function SystemMetricsPage(): ReactNode {
  const metrics = useQuery({
    queryKey: ['metrics', 'system'],
    queryFn: () => call(() => api.GET('/api/v1/metrics/system')),
    refetchInterval: 30_000,
  });
  const m = metrics.data;
  return (
    <Stack>
      <Title order={2}>System metrics</Title>
      <QueryState isLoading={metrics.isLoading} error={metrics.error}>
        {m && (
          <>
            <Text size="sm" c="dimmed">
              As of {formatDate(m.generated_at)} (refreshed every 30 s)
            </Text>
            <SimpleGrid cols={{ base: 2, sm: 3, lg: 6 }}>
              <StatCard
                label="Users"
                value={m.users.total}
                hint={`${m.users.active} active, ${m.users.active_today} today`}
              />
              <StatCard
                label="OTP accounts"
                value={m.configurations.total}
                hint={`${m.configurations.active} active`}
              />
              <StatCard label="Devices" value={m.devices.total} hint={`${m.devices.verified} verified`} />
              <StatCard label="Usage keys" value={m.usage_keys.total} hint={`${m.usage_keys.depleted} depleted`} />
              <StatCard label="Success rate" value={formatRate(m.otp_usage.success_rate)} hint="OTP validations" />
              <StatCard
                label="Security"
                value={m.security.locked_accounts}
                hint={`locked accounts · ${m.security.mfa_enabled_users} with MFA · ${m.security.active_api_keys} API keys`}
              />
            </SimpleGrid>
            <SimpleGrid cols={{ base: 1, md: 2 }}>
              <Card withBorder>
                <Title order={4} mb="sm">
                  Last 24 hours
                </Title>
                <LazyChart
                  kind="bar"
                  label="Sign-ins, failed sign-ins, generations and validations in the last 24 hours"
                  x="name"
                  data={[
                    { name: 'Sign-ins', count: m.activity_24h.logins },
                    { name: 'Failed sign-ins', count: m.activity_24h.failed_logins },
                    { name: 'Generated', count: m.activity_24h.generations },
                    { name: 'Validated', count: m.activity_24h.validations },
                  ]}
                  series={[{ key: 'count', label: 'Events', color: '#228be6' }]}
                />
              </Card>
              <Card withBorder>
                <Title order={4} mb="sm">
                  OTP accounts by type
                </Title>
                <LazyChart
                  kind="pie"
                  label="OTP accounts by type"
                  x="type"
                  data={Object.entries(m.configurations.by_type ?? {}).map(([type, count]) => ({ type, count }))}
                  series={[{ key: 'count', label: 'Accounts', color: '#7950f2' }]}
                />
              </Card>
              <Card withBorder>
                <Title order={4} mb="sm">
                  OTP validations (all time)
                </Title>
                <LazyChart
                  kind="bar"
                  label="Successful and failed OTP validations"
                  x="name"
                  data={[
                    { name: 'Valid', count: m.otp_usage.successful_validations },
                    { name: 'Failed', count: m.otp_usage.failed_validations },
                    { name: 'Generated', count: m.otp_usage.generations },
                  ]}
                  series={[{ key: 'count', label: 'Count', color: '#12b886' }]}
                />
              </Card>
            </SimpleGrid>
          </>
        )}
      </QueryState>
    </Stack>
  );
}
