// Keyboard first: type, Enter, next. Alt+B blank, Alt+I illegible, Alt+Z undo.
document.addEventListener("DOMContentLoaded", () => {
  const outline = document.querySelector(".outline");
  if (outline) {
    for (const side of ["left", "top", "width", "height"]) {
      outline.style[side] = outline.dataset[side] + "%";
    }
  }
  const input = document.getElementById("value");
  if (input) { input.focus(); input.select(); }
  const form = document.getElementById("decide");
  const action = document.getElementById("action");
  for (const button of document.querySelectorAll("button[data-action]")) {
    button.addEventListener("click", () => { action.value = button.dataset.action; });
  }
  // One submit a page: a second Enter, or a held key's repeats, would post a decision or an undo again
  // (an undo each: decisions taken back that the page never showed).
  let sent = false;
  for (const each of document.querySelectorAll("form")) {
    each.addEventListener("submit", (event) => {
      if (sent) { event.preventDefault(); return; }
      sent = true;
    });
  }
  const submit = (target) => {
    if (!target || sent) return;
    sent = true;
    target.submit();
  };
  // Written text is a textarea: Enter saves there too, Shift+Enter starts a new line
  if (input && input.tagName === "TEXTAREA") {
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submit(form);
      }
    });
  }
  // By the key's place, not its letter: on a Mac, Option+B types "∫"; on a Cyrillic layout, Alt+B is "и".
  const shortcuts = { KeyB: "blank", KeyI: "illegible", KeyZ: "undo" };
  // AltGr (Alt with Ctrl, on Windows) and a Mac's Option also type letters: Polish "ż" is AltGr+Z, a Mac's
  // Option+I starts "î". Written there into a handwritten answer they are the reviewer's letters: taken for
  // Alt+Z and Alt+I they took back the last decision, or saved this one as illegible, mid-word.
  const typesLetter = (event) => event.ctrlKey || event.metaKey || event.getModifierState("AltGraph") ||
    (input && input.tagName === "TEXTAREA" && event.target === input &&
     (event.key === "Dead" || (/^\p{L}$/u.test(event.key) && !/^[a-z]$/i.test(event.key))));
  document.addEventListener("keydown", (event) => {
    if (!event.altKey || typesLetter(event)) return;
    const chosen = shortcuts[event.code] || { b: "blank", i: "illegible", z: "undo" }[event.key.toLowerCase()];
    if (!chosen) return;
    event.preventDefault();
    if (event.repeat) return;
    if (chosen === "undo") { submit(document.getElementById("undo-form")); return; }
    if (form) { action.value = chosen; submit(form); }
  });
});
