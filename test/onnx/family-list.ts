// The torchvision classification families the ONNX import is held to (issue 19).
export const FAMILIES = [
  'alexnet', 'vgg11_bn', 'resnet18', 'resnext50_32x4d', 'wide_resnet50_2', 'squeezenet1_1', 'densenet', 'inception_v3', 'googlenet',
  'shufflenet_v2', 'mobilenet_v2', 'mobilenet_v3_small', 'mobilenet_v3_large', 'mnasnet', 'efficientnet_b0', 'efficientnet_v2',
  'regnet_y', 'regnet_x', 'convnext', 'vit_b_16',
];
