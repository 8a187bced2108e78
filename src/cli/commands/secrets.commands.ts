import { Command } from 'nest-commander';
import { output, renderTable } from '../output.js';
import { SecretsRotationService } from '../secrets-rotation.service.js';
import { CliCommand, JsonOption } from './base.command.js';

@Command({
  name: 'secrets:rotate',
  description: 'Re-encrypt every stored secret under the active ENCRYPTION_KEYS key (exits 1 if any cannot be read)',
})
export class SecretsRotateCommand extends CliCommand {
  constructor(private readonly rotation: SecretsRotationService) {
    super();
  }

  async run(_: string[], options: JsonOption): Promise<void> {
    const reports = await this.rotation.rotateAll();
    output(options.json, reports, () => renderTable([...reports], ['table', 'column', 'rotated', 'current', 'failed']));
    if (reports.some((r) => r.failed > 0)) {
      process.stderr.write(
        'some secrets could not be decrypted with any key of ENCRYPTION_KEYS; they were left as is\n',
      );
      process.exitCode = 1;
    }
  }
}
