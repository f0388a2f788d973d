export * from './events.js';
export * from './state.js';
export * from './commands.js';
export * from './decide.js';
export * from './errors.js';
export * from './steps.js';
export * from './money.js';
export * from './wallet.js';
