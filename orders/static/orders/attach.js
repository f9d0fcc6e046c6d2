// The order page's "Attach" form: the file goes from the browser straight to S3.
// 1. Ask the admin for a presigned POST form for this file's name, type and size.
// 2. Submit a form to S3 with those fields and the file (the file field last, as S3 wants).
// 3. S3 stores it and redirects the browser back to the admin's "uploaded" page, which records
//    nothing by itself (a GET); its form POSTs, with the CSRF token, to record the attachment.
//    This script submits that form on its own when this tab started that very upload (the key
//    it remembered in step 2), so a link from elsewhere cannot attach a file.
// A file, not an inline script: the Content-Security-Policy allows scripts from this site only.
"use strict";

const PENDING = "orders.attach.pending-key";

function remember(key) {
  try {
    sessionStorage.setItem(PENDING, key);
  } catch (problem) {
    // No storage (private mode, disabled): the page S3 sends back to asks for a click instead.
  }
}

function recall() {
  try {
    const key = sessionStorage.getItem(PENDING);
    sessionStorage.removeItem(PENDING);
    return key;
  } catch (problem) {
    return null;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const finish = document.getElementById("attach-finish-form");
  if (finish && recall() === finish.elements.key.value) {
    finish.querySelector(".wo-attach-status").textContent = "Attaching…";
    finish.submit();
  }
});

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("attach-form");
  if (!form) return;
  const status = form.querySelector(".wo-attach-status");
  status.textContent = "The file goes straight to storage, then shows in the timeline.";

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = form.querySelector("input[type=file]");
    const file = input.files[0];
    if (!file) {
      status.textContent = "Choose a file first.";
      return;
    }
    const ask = new FormData();
    ask.append("csrfmiddlewaretoken", form.elements.csrfmiddlewaretoken.value);
    ask.append("filename", file.name);
    ask.append("content_type", file.type);
    ask.append("size", String(file.size));
    ask.append("visibility", form.elements.visibility.value);
    status.textContent = "Uploading " + file.name + "…";
    let answer;
    try {
      const response = await fetch(form.action, { method: "POST", body: ask, credentials: "same-origin" });
      answer = await response.json();
      if (!response.ok) {
        status.textContent = "Not attached: " + (answer.error || response.statusText);
        return;
      }
    } catch (problem) {
      status.textContent = "Not attached: " + problem;
      return;
    }
    const upload = document.createElement("form");
    upload.method = "post";
    upload.action = answer.url;
    upload.enctype = "multipart/form-data";
    upload.hidden = true;
    for (const [name, value] of Object.entries(answer.fields)) {
      const field = document.createElement("input");
      field.type = "hidden";
      field.name = name;
      field.value = value;
      upload.append(field);
    }
    input.name = "file";
    upload.append(input); // moving the input keeps the chosen file
    document.body.append(upload);
    remember(answer.fields.key);
    upload.submit();
  });
});
