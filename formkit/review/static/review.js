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
  document.addEventListener("keydown", (event) => {
    if (!event.altKey) return;
    const key = event.key.toLowerCase();
    if (key === "b" && form) { action.value = "blank"; form.submit(); event.preventDefault(); }
    if (key === "i" && form) { action.value = "illegible"; form.submit(); event.preventDefault(); }
    if (key === "z") { document.getElementById("undo-form").submit(); event.preventDefault(); }
  });
});
