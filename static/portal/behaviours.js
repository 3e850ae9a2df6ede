/* Small behaviours the templates declare in their markup, instead of inline event handlers (which a
   Content-Security-Policy of script-src 'self' forbids):
   - data-confirm="question" on a form, or on a submit button: submitting asks first;
   - data-select-on-focus on a field: focusing it selects its text (a token to copy).
   Listeners on the document, added as this module runs, so they serve every page. */

document.addEventListener("submit", (e) => {
  const form = e.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm !== undefined && !confirm(form.dataset.confirm)) {
    e.preventDefault();
  }
});

document.addEventListener("click", (e) => {
  const button = e.target instanceof Element ? e.target.closest("button[data-confirm], input[data-confirm]") : null;
  if (button && !confirm(button.dataset.confirm)) e.preventDefault();
});

document.addEventListener("focusin", (e) => {
  if (e.target instanceof HTMLInputElement && e.target.hasAttribute("data-select-on-focus")) e.target.select();
});
