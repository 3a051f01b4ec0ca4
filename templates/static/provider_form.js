// The provider form without a round trip: picking a kind shows only the fields that kind takes
// (the data-* attributes of its <option>, written by the server from the kinds table). Without
// JavaScript the "Show its fields" button reloads the page for the picked kind instead.
(function () {
  "use strict";
  var pick = document.getElementById("kind-pick");
  var form = document.getElementById("add-form");
  if (!pick || !form) { return; }
  var select = pick.querySelector("select[name=kind]");
  var button = pick.querySelector("[data-pick-button]");
  if (button) { button.hidden = true; }

  function setText(selector, text) {
    var el = form.querySelector(selector);
    if (el) { el.textContent = text; }
  }
  function setPlaceholder(id, text) {
    var el = form.querySelector("#" + id);
    if (el) { el.placeholder = text; }
  }

  function apply() {
    var option = select.options[select.selectedIndex];
    var fields = (option.dataset.fields || "").split(" ");
    form.querySelector("[data-kind-value]").value = option.value;
    setText("[data-kind-heading] strong", option.textContent);
    form.querySelectorAll("[data-field]").forEach(function (group) {
      var on = fields.indexOf(group.dataset.field) >= 0;
      group.hidden = !on;
      group.querySelectorAll("input, select").forEach(function (input) { input.disabled = !on; });
    });
    form.querySelectorAll("[data-note-for]").forEach(function (note) {
      note.hidden = note.dataset.noteFor !== option.value;
    });
    setText("[data-key-note]", option.dataset.keyNote);
    setText("[data-url-note]", option.dataset.urlNote);
    setText("[data-model-note]", option.dataset.modelNote);
    setPlaceholder("api_key", option.dataset.keyPlaceholder);
    setPlaceholder("base_url", option.dataset.urlPlaceholder);
    setPlaceholder("model", option.dataset.modelPlaceholder);
  }

  select.addEventListener("change", apply);
  apply();
}());
