// The host app's own code: mount the inline help panel and wire its button.
window.RingsideChat.mount({
  mode: "inline",
  container: "#help",
  title: "Help",
  welcome: "Ask anything about billing.",
  context: { page: "billing", plan: "pro" },
}).then((chat) => {
  document.getElementById("ask-about-page").addEventListener("click", () => {
    chat.send("Explain this page to me.");
  });
  window.helpPanel = chat;
});
