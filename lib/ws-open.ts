// The WebSocket half of a channel: loaded by lib/ws-channel.ts on the first upgrade, so
// a server that never upgrades never loads the WebSocket stack.
import type { Socket } from 'node:net';
import { WebSocket } from '../websocket/index.ts';
import type { WebSocketChannel } from './ws-channel.ts';

export { acceptUpgrade } from '../websocket/index.ts';

/** The connection object behind a WebSocket channel; it tells the channel what happens. */
export class ChannelSocket extends WebSocket {
  channel: WebSocketChannel;

  constructor(socket: Socket, channel: WebSocketChannel, options: ConstructorParameters<typeof WebSocket>[1], head: Buffer) {
    super(socket, options, head);
    this.channel = channel;
  }

  /** Messages go to the channel as they are: text is decoded there, binary copied only when lent. */
  protected override deliver(data: Buffer, isBinary: boolean, lent: boolean): void {
    this.channel.received(data, isBinary, lent);
  }

  /** The idle timeout or a missed heartbeat: the channel reports 'timeout'. */
  protected override timedOut(idle: boolean): void {
    this.channel.timedOut(idle);
    super.timedOut(idle);
  }
}
