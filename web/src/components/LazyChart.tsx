import { Loader } from '@mantine/core';
import { lazy, Suspense, type ComponentProps, type ReactNode } from 'react';

const Chart = lazy(() => import('./ChartView'));

export function LazyChart(props: ComponentProps<typeof Chart>): ReactNode {
  return (
    <Suspense fallback={<Loader size="sm" aria-label="Loading chart" />}>
      <Chart {...props} />
    </Suspense>
  );
}
