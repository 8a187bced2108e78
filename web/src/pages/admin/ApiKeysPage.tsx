import { Title } from '@mantine/core';
import type { ReactNode } from 'react';

export function ApiKeysPage(): ReactNode {
  return <Title order={2}>ApiKeysPage</Title>;
}
