/**
 * Public surface of src/data for datasets: read, validate, decode and write EasyR1-format
 * datasets. (Rollout files and atomic writes have their own modules.)
 */
export { loadDataset, DEFAULT_LOAD_IMAGE_SIZE, type LoadOptions, type LoadedExample } from './load.ts';
export { readDataset, countMarkers, formatOf, DatasetError, DEFAULT_KEYS, type DatasetFormat, type DatasetKeys, type DatasetRow, type ImageSource } from './dataset.ts';
export { decodeImage, encodePng, imageInfo, type ImageInfo } from './image-codec.ts';
export { writeDataset, type WritableRow } from './write-dataset.ts';
