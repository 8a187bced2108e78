import { Command } from 'nest-commander';
import { DevicesService } from '#src/devices/devices.service.js';
import { output, renderRecord } from '../output.js';
import { CliCommand, JsonOption, SYSTEM } from './base.command.js';

@Command({
  name: 'devices:rekey',
  arguments: '<client> <device>',
  description: "Issue a new derived key for a client's device under the active master secret; prints it once",
})
export class DevicesRekeyCommand extends CliCommand {
  constructor(private readonly devices: DevicesService) {
    super();
  }

  async run([client, device]: string[], options: JsonOption): Promise<void> {
    const rekeyed = await this.devices.rekey(client, device, SYSTEM);
    output(options.json, rekeyed, () => renderRecord({ ...rekeyed, qr_code: `${rekeyed.qr_code.slice(0, 40)}…` }));
  }
}
