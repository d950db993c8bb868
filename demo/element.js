// The page's buttons change the element's attributes; the widget follows.
const element = document.querySelector("ringside-chat");
document.getElementById("rename").addEventListener("click", (event) => {
  const next = element.getAttribute("title") === "Mission desk" ? "Launch desk" : "Mission desk";
  element.setAttribute("title", next);
  event.target.textContent = `Rename it “${next === "Mission desk" ? "Launch desk" : "Mission desk"}”`;
});
document.getElementById("theme").addEventListener("click", (event) => {
  const dark = element.getAttribute("theme") !== "dark";
  element.setAttribute("theme", dark ? "dark" : "light");
  event.target.textContent = dark ? "Switch to the light theme" : "Switch to the dark theme";
});
