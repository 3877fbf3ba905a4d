import type { MaintenanceReport } from '@gitfleet/repository';

/** What one maintenance run of a repository came to, wherever it ran. */
export interface MaintenanceOutcome {
  /** False when nothing was done: another runner of the fleet held the repository's lease, or the repository is gone. */
  ran: boolean;
  report?: MaintenanceReport;
  /** The process that ran it. */
  pid?: number;
}
