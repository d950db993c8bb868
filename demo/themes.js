// Two inline widgets on one page: the dark theme, and the automatic one (with
// the host's own accent colour, set in demo.css). Each keeps its own
// conversation (`name`).
const ask = "Compare your plans in a table";
window.RingsideChat.mount({
  mode: "inline", container: "#dark", theme: "dark", name: "dark",
  title: "Dark", welcome: "The dark theme.", suggestions: [ask],
});
window.RingsideChat.mount({
  mode: "inline", container: "#auto", theme: "auto", name: "auto",
  title: "Automatic", welcome: "Light or dark, as your system is.", suggestions: [ask],
});
const system = window.matchMedia("(prefers-color-scheme: dark)");
const say = () => {
  document.getElementById("system").textContent = `now ${system.matches ? "dark" : "light"}, as your system is`;
};
system.addEventListener("change", say);
say();
