export const MODEL_SOURCE = Symbol('MODEL_SOURCE');
