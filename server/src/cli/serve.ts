import type { Command } from 'commander';
import { createLogger } from '../logger.js';
import { configFromEnvironment } from './context.js';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve git smart HTTP and the REST API (configured from the environment, see README.md)')
    .action(async () => {
      const config = configFromEnvironment();
      const logger = createLogger(config.logLevel);
      // Loaded here: the admin commands need none of the HTTP stack and start faster without it.
      const { startServer } = await import('../index.js');
      const server = await startServer({ config, logger, environment: process.env });
      logger.info({ url: server.url, dataDir: config.dataDir }, 'listening');
      let signals = 0;
      const shutdown = (signal: NodeJS.Signals) => {
        signals += 1;
        if (signals > 1) {
          logger.warn({ signal }, 'second signal: exiting without waiting for requests');
          process.exit(1);
        }
        logger.info({ signal }, 'shutting down');
        server.close().then(
          () => {
            logger.info('stopped');
            process.exit(0);
          },
          (error: unknown) => {
            logger.error({ err: error }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', shutdown);
      process.on('SIGINT', shutdown);
    });
}
