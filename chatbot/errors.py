"""A small exception hierarchy; messages say what the user should do next."""


class ChatbotError(Exception):
    """Base class: every error a user can meet carries a message that says what to do."""


class CorpusError(ChatbotError):
    """A corpus file is missing, unreadable or malformed."""


class IndexMissingError(ChatbotError):
    """There is no index where one was expected."""


class IndexStaleError(ChatbotError):
    """The index was built from other documents or settings than the current ones."""


class IndexCorruptError(ChatbotError):
    """The index files are damaged or do not agree with each other."""


class ModelError(ChatbotError):
    """An embedding model cannot be loaded."""


class QuestionError(ChatbotError):
    """The question cannot be answered as given (empty, too long, unreadable)."""


class StoreError(ChatbotError):
    """The database of questions, feedback and staff accounts cannot be opened or written."""


class AccountError(ChatbotError):
    """A staff account cannot be created, found or used as asked."""


class TranslationError(ChatbotError):
    """A passage translation cannot be saved as given (empty, too long, same language, passage gone)."""
