import { Title } from '@mantine/core';
import type { ReactNode } from 'react';

export function SystemMetricsPage(): ReactNode {
  return <Title order={2}>SystemMetricsPage</Title>;
}
