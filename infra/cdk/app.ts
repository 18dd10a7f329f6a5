/** CDK app entry: `cdk.json` runs it with tsx (`npx cdk synth`, `npm run deploy`). */
import { buildApp } from './build-app.js';

buildApp().app.synth();
