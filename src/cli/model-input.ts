// What input a loaded model takes (an imported graph's declared [C, H, W], a zoo model's channels)
// and fitting the data to it: gray data is repeated into the model's channels unless --channels
// says otherwise; another channel count is an error, another image size a warning (convolutional
// graphs take any size; one that needs its declared size fails at the node that does).
import type { DataSpec, OpenedData } from '../data/index.js';
import type { LoadedModel } from '../models/load.js';
import { OnnxGraphModel } from '../models/onnx-graph.js';
import { UsageError } from './args.js';

export interface ModelInput {
  channels?: number;
  height?: number;
  width?: number;
}

export function modelInput(loaded: LoadedModel): ModelInput {
  const m = loaded.model;
  if (m instanceof OnnxGraphModel) {
    const [, c, h, w] = m.inputShape.map((d) => (typeof d === 'number' && d > 0 ? d : undefined));
    return { channels: c, height: h, width: w };
  }
  return { channels: loaded.options.inChannels };
}

/** Sets spec.channels to the model's when the flag is absent (so 1-channel data is repeated). */
export function channelsForModel(spec: DataSpec, want: ModelInput, log: (s: string) => void): void {
  if (spec.channels !== undefined || want.channels === undefined) return;
  spec.channels = want.channels;
  log(`data: samples get the model's ${want.channels} input channels (a 1-channel image is repeated; --channels overrides)`);
}

/** The [C, H, W] of the data's samples; an error when the model declares other channels. */
export function checkDataFitsModel(data: OpenedData, want: ModelInput, log: (s: string) => void): [number, number, number] {
  const t = data.evalTransform;
  const shape: [number, number, number] = [data.channels, t.height, t.width];
  if (want.channels !== undefined && want.channels !== shape[0]) {
    throw new UsageError(`the model takes ${want.channels} input channels, the data gives ${shape[0]} (--channels ${want.channels} repeats 1-channel data)`);
  }
  if ((want.height !== undefined && want.height !== shape[1]) || (want.width !== undefined && want.width !== shape[2])) {
    log(`warning: the model declares ${want.height ?? '?'}x${want.width ?? '?'} inputs, the data gives ${shape[1]}x${shape[2]}; ` +
      `convolutional graphs run at any size, others need --resize ${want.height ?? shape[1]}x${want.width ?? shape[2]}`);
  }
  return shape;
}
