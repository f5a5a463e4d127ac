/** The schema of the consumer options shared by init-direct and init-loop. */
import * as z from 'zod/mini';
import '../zod-locale.js';
import type { ConsumerSettings } from '../model/options.js';

const storageOpt = z.string().check(z.regex(/^dm\.[a-z_]+=\S+$/, 'a storage option looks like dm.basesize=20G (KEY=VALUE, a dm.* key)'));

export const consumerOptionFields = {
  consumer: z.enum(['docker', 'containerd', 'none'], 'consumer must be docker, containerd or none'),
  dockerManaged: z._default(z.boolean(), false),
  storageOpt: z.array(storageOpt),
  minFreeSpace: z.optional(z.string().check(z.regex(/^\d{1,2}(\.\d+)?%$/, 'min free space is a percentage below 100 written with its %, e.g. 10%'))),
  baseImageSize: z.string().check(z.regex(/^\d+(\.\d+)?\s*[KMGT]i?B$/i, 'base image size looks like 10GB or 64MB (containerd\'s format)')),
  containerdRootPath: z.string().check(z.startsWith('/', 'the containerd root path must be absolute')),
};


/** The parsed consumer flags as the planners take them. */
export function consumerSettings(o: {
  consumer: ConsumerSettings['consumer'];
  dockerManaged: boolean;
  storageOpt: string[];
  minFreeSpace?: string | undefined;
  baseImageSize: string;
  containerdRootPath: string;
}): ConsumerSettings {
  return {
    consumer: o.consumer,
    dockerManaged: o.dockerManaged,
    storageOpts: o.storageOpt,
    minFreeSpace: o.minFreeSpace,
    baseImageSize: o.baseImageSize,
    containerdRootPath: o.containerdRootPath,
  };
}
