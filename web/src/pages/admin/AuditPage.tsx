import { Title } from '@mantine/core';
import type { ReactNode } from 'react';

export function AuditPage(): ReactNode {
  return <Title order={2}>AuditPage</Title>;
}
