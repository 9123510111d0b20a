/** How big each workload is: the full run and the CI smoke run. */
export interface Sizes {
  conversations: number;
  devicesPerUser: number;
  rampRates: number[];
  warmupMs: number;
  measureMs: number;
  drainMs: number;
  p99LimitMs: number;
  fixedRate: number;
  fixedWarmupMs: number;
  fixedMeasureMs: number;
  idleDevices: number;
  concurrency: number;
  profile: boolean;
}

export const FULL: Sizes = {
  conversations: 1000,
  devicesPerUser: 2,
  rampRates: [500, 1000, 1500, 2000, 2500, 3000, 4000, 5000, 6000, 8000, 10_000, 12_500, 15_000, 20_000, 25_000, 30_000],
  warmupMs: 1000,
  measureMs: 4000,
  drainMs: 5000,
  p99LimitMs: 50,
  fixedRate: 5000,
  fixedWarmupMs: 2000,
  fixedMeasureMs: 10_000,
  idleDevices: 10_000,
  concurrency: 200,
  profile: true,
};

export const QUICK: Sizes = {
  conversations: 50,
  devicesPerUser: 2,
  rampRates: [250, 500, 1000],
  warmupMs: 300,
  measureMs: 1000,
  drainMs: 2000,
  p99LimitMs: 50,
  fixedRate: 500,
  fixedWarmupMs: 300,
  fixedMeasureMs: 1500,
  idleDevices: 1000,
  concurrency: 100,
  profile: false,
};
