/* The upload form's language: offered only while the chosen model is multilingual. A hidden choice
   is disabled too, so that the upload does not send it. */
export function languageChoice(form) {
  const choice = document.getElementById("language-choice");
  const profile = form.querySelector("select[name=profile]");
  if (!choice || !profile) return;
  const multilingual = choice.dataset.multilingual.split(" ");
  const select = choice.querySelector("select");
  const show = () => {
    const offered = multilingual.includes(profile.value);
    choice.hidden = !offered;
    select.disabled = !offered;
  };
  profile.addEventListener("change", show);
  show();
}
