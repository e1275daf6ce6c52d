"""The admin's users page in English and Hindi (merged into the desk's texts)."""

from __future__ import annotations

USERS: dict[str, dict[str, str]] = {
    "en": {
        "u_title": "Users",
        "u_intro": "The people who work in your offices: add them, change their role or office, "
        "reset a password, deactivate or reactivate. Every change is recorded.",
        "u_admins_only": "Only an administrator may manage users.",
        "u_add": "Add a user",
        "u_name": "Name shown in the desk",
        "u_role": "Role",
        "u_role_agent": "agent",
        "u_role_supervisor": "supervisor",
        "u_role_admin": "administrator",
        "u_role_viewer": "viewer (read only)",
        "u_initial_password": "First password",
        "u_password_rules": "At least {n} characters; not the user's name, not one character "
        "repeated, not a well-known password. Give it to the person privately.",
        "u_add_button": "Add user",
        "u_list": "Users of your offices",
        "u_inactive": "deactivated",
        "u_manage": "Change role or office, reset password, deactivate",
        "u_save": "Save role and office",
        "u_new_password": "New password",
        "u_reset_button": "Reset password",
        "u_deactivate": "Deactivate",
        "u_reactivate": "Reactivate",
        "u_added": "Added {username}. They can sign in now.",
        "u_reset": "New password set for {username}; their sessions were ended.",
        "u_deactivated": "{username} is deactivated: they can no longer sign in.",
        "u_reactivated": "{username} is active again.",
    },
    "hi": {
        "u_title": "उपयोगकर्ता",
        "u_intro": "आपके कार्यालयों में काम करने वाले लोग: उन्हें जोड़ें, भूमिका या कार्यालय बदलें, "
        "पासवर्ड रीसेट करें, निष्क्रिय या फिर से सक्रिय करें। हर बदलाव दर्ज होता है।",
        "u_admins_only": "केवल प्रशासक ही उपयोगकर्ताओं का प्रबंधन कर सकते हैं।",
        "u_add": "उपयोगकर्ता जोड़ें",
        "u_name": "डेस्क में दिखने वाला नाम",
        "u_role": "भूमिका",
        "u_role_agent": "एजेंट",
        "u_role_supervisor": "पर्यवेक्षक",
        "u_role_admin": "प्रशासक",
        "u_role_viewer": "दर्शक (केवल पढ़ना)",
        "u_initial_password": "पहला पासवर्ड",
        "u_password_rules": "कम से कम {n} अक्षर; उपयोगकर्ता का नाम नहीं, एक ही अक्षर दोहराया हुआ "
        "नहीं, कोई आम पासवर्ड नहीं। इसे व्यक्ति को निजी रूप से दें।",
        "u_add_button": "उपयोगकर्ता जोड़ें",
        "u_list": "आपके कार्यालयों के उपयोगकर्ता",
        "u_inactive": "निष्क्रिय",
        "u_manage": "भूमिका या कार्यालय बदलें, पासवर्ड रीसेट करें, निष्क्रिय करें",
        "u_save": "भूमिका और कार्यालय सहेजें",
        "u_new_password": "नया पासवर्ड",
        "u_reset_button": "पासवर्ड रीसेट करें",
        "u_deactivate": "निष्क्रिय करें",
        "u_reactivate": "फिर से सक्रिय करें",
        "u_added": "{username} जोड़ा गया। वे अब साइन इन कर सकते हैं।",
        "u_reset": "{username} का नया पासवर्ड सेट हुआ; उनके सत्र समाप्त किए गए।",
        "u_deactivated": "{username} निष्क्रिय है: वे अब साइन इन नहीं कर सकते।",
        "u_reactivated": "{username} फिर से सक्रिय है।",
    },
}
