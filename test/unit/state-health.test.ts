// The in-process health book against the HealthStore suite.
import { HealthBook } from '../../src/state/health.ts';
import { healthStoreSuite } from '../suites/health-store.ts';

healthStoreSuite('in-process HealthBook', (now) => new HealthBook(now));
