// Starts GOV.UK Frontend's components (service navigation menu, error summary focus, notification banners).
import { initAll } from './govuk-frontend.min.js';

initAll();

// Sign-out's way on to the identity provider's sign-out (a link, followed at once; a person without script clicks it).
const onward = globalThis.document.querySelector('a[data-stork-continue]');
if (onward !== null) globalThis.location.replace(onward.href);
