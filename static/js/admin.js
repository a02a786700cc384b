// The organiser's page: create an event from pasted programme text.
const csrf = document.querySelector("main").dataset.csrf;
document.getElementById("create").addEventListener("click", async () => {
  const text = document.getElementById("programme").value;
  const res = await fetch("/api/v1/events/import", {
    method: "POST", headers: {"Content-Type": "text/plain", "X-CSRFToken": csrf}, body: text,
  });
  const body = await res.json();
  document.getElementById("result").textContent = res.ok
    ? `Created ${body.code}\nModerator link: ${body.urls.moderator}\nAudience: ${body.urls.audience}\nScreen: ${body.urls.screen}`
    : body.error.message;
});
