// Progressive enhancement only: every page works without this file.
// Step forms (province → commune) move on as soon as a choice is made.
document.querySelectorAll("form.autosubmit select").forEach(function (select) {
  select.addEventListener("change", function () { if (select.value) select.form.submit(); });
});
