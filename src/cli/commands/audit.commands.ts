import { Command } from 'nest-commander';
import { AuditChainService } from '#src/audit/audit-chain.service.js';
import { output, renderRecord } from '../output.js';
import { CliCommand, JsonOption } from './base.command.js';

@Command({
  name: 'audit:verify',
  description: 'Re-compute the audit hash chain; exits 1 and names the first broken row when it does not hold',
})
export class AuditVerifyCommand extends CliCommand {
  constructor(private readonly chain: AuditChainService) {
    super();
  }

  async run(_: string[], options: JsonOption): Promise<void> {
    const result = await this.chain.verify();
    output(options.json, result, () =>
      renderRecord({
        result: result.ok ? 'intact' : 'BROKEN',
        checked: result.checked,
        first_broken_id: result.firstBrokenId,
        unsealed: result.unsealed,
      }),
    );
    if (!result.ok) process.exitCode = 1;
  }
}
