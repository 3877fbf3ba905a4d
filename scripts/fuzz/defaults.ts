import type { CampaignOptions } from './campaign.js';

/** The bounds every campaign uses unless told otherwise. */
export const defaultCampaign: Pick<CampaignOptions, 'memoryLimitBytes' | 'memoryPerInputByte' | 'workerHeapMb'> = {
  // Parsing a few kilobytes needs far less; 64 MiB leaves room for the garbage of a long run.
  memoryLimitBytes: 64 << 20,
  memoryPerInputByte: 1024,
  workerHeapMb: 1024,
};
