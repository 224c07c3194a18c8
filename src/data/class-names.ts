/** Class names of the well-known datasets, and CIFAR-100's 20 superclasses (its coarse labels). */

export const CIFAR10_CLASSES: readonly string[] = [
  'airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck',
];

export const MNIST_CLASSES: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

export const FASHION_MNIST_CLASSES: readonly string[] = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

/** CIFAR-100 superclasses in coarse-label order, each with its five fine classes. */
export const CIFAR100_SUPERCLASSES: readonly { name: string; classes: readonly string[] }[] = [
  { name: 'aquatic_mammals', classes: ['beaver', 'dolphin', 'otter', 'seal', 'whale'] },
  { name: 'fish', classes: ['aquarium_fish', 'flatfish', 'ray', 'shark', 'trout'] },
  { name: 'flowers', classes: ['orchid', 'poppy', 'rose', 'sunflower', 'tulip'] },
  { name: 'food_containers', classes: ['bottle', 'bowl', 'can', 'cup', 'plate'] },
  { name: 'fruit_and_vegetables', classes: ['apple', 'mushroom', 'orange', 'pear', 'sweet_pepper'] },
  { name: 'household_electrical_devices', classes: ['clock', 'keyboard', 'lamp', 'telephone', 'television'] },
  { name: 'household_furniture', classes: ['bed', 'chair', 'couch', 'table', 'wardrobe'] },
  { name: 'insects', classes: ['bee', 'beetle', 'butterfly', 'caterpillar', 'cockroach'] },
  { name: 'large_carnivores', classes: ['bear', 'leopard', 'lion', 'tiger', 'wolf'] },
  { name: 'large_man-made_outdoor_things', classes: ['bridge', 'castle', 'house', 'road', 'skyscraper'] },
  { name: 'large_natural_outdoor_scenes', classes: ['cloud', 'forest', 'mountain', 'plain', 'sea'] },
  { name: 'large_omnivores_and_herbivores', classes: ['camel', 'cattle', 'chimpanzee', 'elephant', 'kangaroo'] },
  { name: 'medium_mammals', classes: ['fox', 'porcupine', 'possum', 'raccoon', 'skunk'] },
  { name: 'non-insect_invertebrates', classes: ['crab', 'lobster', 'snail', 'spider', 'worm'] },
  { name: 'people', classes: ['baby', 'boy', 'girl', 'man', 'woman'] },
  { name: 'reptiles', classes: ['crocodile', 'dinosaur', 'lizard', 'snake', 'turtle'] },
  { name: 'small_mammals', classes: ['hamster', 'mouse', 'rabbit', 'shrew', 'squirrel'] },
  { name: 'trees', classes: ['maple_tree', 'oak_tree', 'palm_tree', 'pine_tree', 'willow_tree'] },
  { name: 'vehicles_1', classes: ['bicycle', 'bus', 'motorcycle', 'pickup_truck', 'train'] },
  { name: 'vehicles_2', classes: ['lawn_mower', 'rocket', 'streetcar', 'tank', 'tractor'] },
];

export const CIFAR100_COARSE_CLASSES: readonly string[] = CIFAR100_SUPERCLASSES.map((s) => s.name);

/** The 100 fine classes in label order (the published order is alphabetical). */
export const CIFAR100_CLASSES: readonly string[] = CIFAR100_SUPERCLASSES.flatMap((s) => s.classes).sort();
