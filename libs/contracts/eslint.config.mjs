import baseConfig from '../../eslint.config.mjs';

// The root config's ignore of the generated code is relative to the root; `nx lint contracts` lints from here.
export default [...baseConfig, { ignores: ['src/grpc/generated/**'] }];
