/**
 * zod/mini ships without error messages ("Invalid input" for everything); classic zod installs its
 * English locale on load. This does the same for zod/mini, with the English locale only, so a bundle
 * carries no other language. Every module that builds zod schemas imports this for its side effect.
 */
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

z.config(en());
