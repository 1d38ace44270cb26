// Start GOV.UK Frontend's components (loaded as an ES module so the CSP needs no inline script).
import { initAll } from "../govuk/govuk-frontend.min.js";

initAll();
