import { startDynalite } from '../../functions/local/emulators.js';
import { startAwsTarget } from './aws-target.js';
import { storeContract } from './store-contract.js';

storeContract('AWS adapters on dynalite + s3rver', () => startAwsTarget(() => startDynalite()));
