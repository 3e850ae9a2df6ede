// ESLint (flat config) for the portal's browser scripts: native ES modules under static/portal/,
// served as they are (no bundler). `make lint` runs it.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["node_modules/", ".venv/", "var/"] },
  js.configs.recommended,
  {
    files: ["static/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: {
        ...globals.browser,
        // Django's JavaScript catalog (/jsi18n/), a classic script that base.html loads first.
        gettext: "readonly",
        ngettext: "readonly",
        interpolate: "readonly",
      },
    },
  },
  {
    files: ["eslint.config.js"],
    languageOptions: { sourceType: "module", globals: globals.node },
  },
];
