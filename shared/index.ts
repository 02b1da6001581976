export * from './errors';
export * from './list';
export * from './events';
export * from './client';
export * from './contract';
