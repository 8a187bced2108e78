import { Title } from '@mantine/core';
import type { ReactNode } from 'react';

export function KeysPage(): ReactNode {
  return <Title order={2}>KeysPage</Title>;
}
