// The host app's own code: mount the inline help panel, tell it where the
// user is, and wire the page's "Ask about this page" button to it.
window.RingsideChat.mount({
  mode: "inline",
  container: "#help",
  title: "Help",
  welcome: "Questions about billing? Ask me, or press “Ask about this page”.",
  suggestions: ["How do I cancel?", "What does Fleet add?"],
  context: { page: "billing", plan: "pro" },
}).then((help) => {
  document.getElementById("ask-about-page").addEventListener("click", () => {
    help.send("Explain this page to me.");
  });
});
