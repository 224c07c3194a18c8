// A caching allocator for CUDA device buffers: freed buffers go to free lists keyed by their exact
// element count (the addon's launchers check exact lengths) and are handed out again, so a SeaM
// step that allocates the same shapes every iteration calls cuMemAlloc only in its first step.
// cuMemFree happens only in emptyCache() or when an allocation fails for lack of memory.
import { cudaNative as cu, type CudaBuffer } from './cuda-native.js';

export interface DeviceMemoryStats {
  /** bytes in buffers held by tensors (or other users) now */
  liveBytes: number;
  liveBuffers: number;
  /** bytes in freed buffers kept for reuse */
  cachedBytes: number;
  cachedBuffers: number;
  /** the most live bytes seen since the last resetPeak() */
  peakLiveBytes: number;
  /** cuMemAlloc calls made so far (cache misses) */
  deviceAllocs: number;
  /** allocations served from the cache */
  cacheHits: number;
}

class CachingAllocator {
  private readonly free = new Map<number, CudaBuffer[]>();
  private s: DeviceMemoryStats = { liveBytes: 0, liveBuffers: 0, cachedBytes: 0, cachedBuffers: 0, peakLiveBytes: 0, deviceAllocs: 0, cacheHits: 0 };

  /** A device buffer of `len` 4-byte elements (contents undefined). */
  alloc(len: number): CudaBuffer {
    const list = this.free.get(len);
    let h = list?.pop();
    if (h !== undefined) {
      this.s.cacheHits++;
      this.s.cachedBytes -= len * 4;
      this.s.cachedBuffers--;
    } else {
      h = this.allocDevice(len);
    }
    this.s.liveBytes += len * 4;
    this.s.liveBuffers++;
    if (this.s.liveBytes > this.s.peakLiveBytes) this.s.peakLiveBytes = this.s.liveBytes;
    return h;
  }

  private allocDevice(len: number): CudaBuffer {
    try {
      this.s.deviceAllocs++;
      return cu.cudaAlloc(len);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      if (!/OUT_OF_MEMORY/.test(msg) || this.s.cachedBuffers === 0) throw augment(msg, this.s);
      this.emptyCache(); // give cached buffers back to the driver and try once more
      try {
        return cu.cudaAlloc(len);
      } catch (err2) {
        throw augment(err2 instanceof Error ? err2.message : String(err2), this.s);
      }
    }
  }

  /** Returns a buffer from alloc() to the cache. */
  release(h: CudaBuffer, len: number): void {
    this.s.liveBytes -= len * 4;
    this.s.liveBuffers--;
    this.s.cachedBytes += len * 4;
    this.s.cachedBuffers++;
    let list = this.free.get(len);
    if (!list) this.free.set(len, (list = []));
    list.push(h);
  }

  /** Frees every cached buffer on the device (cuMemFree). */
  emptyCache(): void {
    for (const [len, list] of this.free) {
      while (list.length) {
        cu.cudaFree(list.pop()!);
        this.s.cachedBytes -= len * 4;
        this.s.cachedBuffers--;
      }
    }
    this.free.clear();
  }

  stats(): DeviceMemoryStats {
    return { ...this.s };
  }

  resetPeak(): void {
    this.s.peakLiveBytes = this.s.liveBytes;
  }
}

function augment(msg: string, s: DeviceMemoryStats): Error {
  return new Error(`${msg} (seam holds ${(s.liveBytes / 2 ** 20).toFixed(1)} MiB in live device tensors; ` +
    'run each step inside deviceScope() or dispose() tensors you no longer need)');
}

export const allocator = new CachingAllocator();

/** Live and cached device bytes of this process's caching allocator. */
export function deviceMemory(): DeviceMemoryStats {
  return allocator.stats();
}

/** Gives every cached (freed) device buffer back to the driver. */
export function emptyDeviceCache(): void {
  allocator.emptyCache();
}
