import { CommandRunner, Option } from 'nest-commander';

export interface JsonOption {
  json?: boolean;
}

/** Every command can answer JSON instead of a table. */
export abstract class CliCommand<O extends JsonOption = JsonOption> extends CommandRunner {
  abstract override run(params: string[], options: O): Promise<void>;

  @Option({ flags: '--json', description: 'print JSON instead of a table' })
  parseJson(): boolean {
    return true;
  }
}

/** The actor every command line change is audited under. */
export const SYSTEM = { kind: 'system' } as const;
