import { z } from 'zod';

// Imported first by main.ts, before the contract's schemas are built: zod must never probe `new Function` under our
// CSP (the probe is caught, but the browser still reports a CSP violation).
z.config({ jitless: true });
