// A Vite app using the npm package: typed options, handle and events.
import { mount, type ChatHandle, type ChatOptions } from "ringside-chat";

const options: ChatOptions = {
  tokenEndpoint: "/api/chat-token",
  title: "Acme Assistant",
  theme: "auto",
  suggestions: ["What's new?", "How do I export data?"],
};

const chat: ChatHandle = await mount(options);
const status = document.getElementById("status")!;
status.textContent = "The assistant is ready.";
const answers: string[] = [];
chat.on("message", ({ text }) => {
  answers.push(text);
  status.textContent = `Answers so far: ${answers.length}`;
});
chat.on("error", (message: string) => console.warn("chat error:", message));
(window as unknown as { chat: ChatHandle }).chat = chat;
